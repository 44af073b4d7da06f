import { binaryRequest } from "../events/requests.js";
import { mediaTypeEssence } from "../http/media-type.js";
import type { ConformanceCase } from "./case.js";
import { CaseFailure } from "./case.js";
import { expectDelivered, isAccepted } from "./expect.js";

/**
 * Runs first: one valid event must reach both catch-all sinks. When it does not, the target is
 * not configured with `conformanceSubscriptions(<sink url>)` (or cannot reach the sink), and every
 * other case would only time out, so the run stops there.
 */
export const preflightCase: ConformanceCase = {
  name: "setup: the target accepts an event and delivers it to the conformance sink",
  spec: "herald-conformance config contract (README)",
  async run(ctx) {
    const event = ctx.event({ subject: "preflight" });
    const res = await ctx.send(binaryRequest(event));
    if (!isAccepted(res.status)) {
      // One line, so the run's last line (which repeats it) shows all of it.
      const text = new TextDecoder().decode(res.body.subarray(0, 200)).replace(/\s+/g, " ").trim();
      const html = mediaTypeEssence(res.headers.get("content-type")) === "text/html";
      throw new CaseFailure(
        `a valid binary event: expected 202 (or 200, 201, 204), got ${res.status} ${text}` +
          (res.status === 401 || res.status === 403
            ? " (give the suite a token the target accepts, or run the gateway with --no-auth)"
            : res.status === 404 || res.status === 405
              ? " (--url is the gateway's base URL: the suite posts to URL/events, so leave /events out)"
              : html
                ? " (an HTML page, not a problem document: is --url a CloudEvents gateway?)"
                : ""),
      );
    }
    try {
      await expectDelivered(ctx, { attributes: event, data: { absent: true } });
    } catch (err) {
      // It arrived, but changed: the routing works, so the config hint would mislead.
      if (err instanceof CaseFailure) throw err;
      throw new CaseFailure(
        `${(err as Error).message}. Is the target configured with conformanceSubscriptions("${ctx.sink.url}")` +
          " (see `herald-conformance config --sink ...`), and can it reach that URL? A config written" +
          " before the run must name this very port: give the suite the same one with --sink-port.",
      );
    }
  },
};

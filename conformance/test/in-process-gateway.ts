import { createGateway, type Gateway, parseConfig } from "@herald/gateway";
import { afterAll, beforeAll } from "vitest";
import { conformanceConfigYaml } from "../src/config/conformance-config.js";
import { type SinkServer, startSink } from "../src/sink/sink-server.js";

/** The suite's sink and a Herald gateway in process on the suite's config, for one test file. */
export interface InProcessGateway {
  readonly sink: SinkServer;
  readonly gateway: Gateway;
}

/**
 * Starts the sink and the gateway before the file's tests and stops both after them (vitest
 * `beforeAll`/`afterAll`; call it inside the `describe`). Read the fields inside tests only.
 *
 * @example
 * const target = inProcessGateway();
 * it("...", async () => { await target.gateway.fetch(request); });
 */
export function inProcessGateway(): InProcessGateway {
  const state = {} as { sink: SinkServer; gateway: Gateway };
  beforeAll(async () => {
    state.sink = await startSink();
    state.gateway = createGateway({
      config: parseConfig(conformanceConfigYaml(state.sink.url), "c.yaml"),
    });
    state.gateway.start();
  });
  afterAll(async () => {
    await state.gateway.stop();
    await state.sink.close();
  });
  return state;
}

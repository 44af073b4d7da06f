import { describe, expect, it } from "vitest";
import { listenHostProblem } from "./listen-host.js";

describe("listenHostProblem", () => {
  it("takes IP addresses and host names", () => {
    for (const host of [
      "127.0.0.1",
      "0.0.0.0",
      "::",
      "::1",
      "fe80::1%eth0",
      "localhost",
      "gw-1.example.com",
      "0",
    ]) {
      expect(listenHostProblem(host), host).toBeUndefined();
    }
  });

  it("says what is wrong with what can never be listened on", () => {
    expect(listenHostProblem("http://127.0.0.1")).toBe(
      "must be a host name or IP address, not a URL",
    );
    expect(listenHostProblem("127.0.0.1:8080")).toBe(
      "must not include a port; the port is listen.port",
    );
    expect(listenHostProblem("localhost:8080", "--port")).toBe(
      "must not include a port; the port is --port",
    );
    expect(listenHostProblem(" 127.0.0.1")).toBe(
      "must be a host name or IP address, without spaces",
    );
    expect(listenHostProblem("[::1]")).toBe("must be written without brackets (::1, not [::1])");
    for (const host of ["a..b", "x/y", "host_name?", ":::g"]) {
      expect(listenHostProblem(host), host).toBe("must be a host name or IP address");
    }
  });
});

/**
 * The config `herald serve` uses when there is no `herald.yaml`: a demo whose one subscription
 * sends every event to the built-in demo sink, which prints it.
 */
export function embeddedConfig(sinkUrl: string, host: string, port: number): string {
  return JSON.stringify({
    listen: { host, port },
    store: { kind: "memory" },
    subscriptions: [{ id: "demo", sink: sinkUrl, protocolsettings: { headers: {} } }],
  });
}

export function demoCurl(baseUrl: string): string {
  return [
    `curl -i ${baseUrl}/events \\`,
    "  -H 'ce-specversion: 1.0' -H 'ce-id: demo-1' -H 'ce-source: /demo' \\",
    "  -H 'ce-type: com.example.demo.greeting' -H 'content-type: application/json' \\",
    `  -d '{"hello":"world"}'`,
  ].join("\n");
}

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in these strings is config text under test.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ConfigInvalid } from "../../config/config-invalid.js";
import { loadConfigFile } from "./read-config-file.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-config-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("reads and parses a file, naming it in errors", async () => {
  const file = join(dir, "herald.yaml");
  await writeFile(file, "listen:\n  port: ${HERALD_TEST_PORT}\n");
  await expect(loadConfigFile(file, { HERALD_TEST_PORT: "9100" })).resolves.toMatchObject({
    listen: { port: 9100 },
  });
  const rejected = loadConfigFile(file, {});
  await expect(rejected).rejects.toBeInstanceOf(ConfigInvalid);
  await expect(rejected).rejects.toThrow(
    `${file}:2:9 listen.port: environment variable HERALD_TEST_PORT is not set`,
  );
});

test("interpolates from process.env by default", async () => {
  const file = join(dir, "env.yaml");
  await writeFile(
    file,
    "adapters:\n  - id: a\n    kind: github\n    secret: ${HERALD_TEST_VALUE}\n",
  );
  process.env.HERALD_TEST_VALUE = "from-process";
  try {
    await expect(loadConfigFile(file)).resolves.toMatchObject({
      adapters: [{ id: "a", kind: "github", secret: "from-process" }],
    });
  } finally {
    delete process.env.HERALD_TEST_VALUE;
  }
});

test("a byte order mark is not content", async () => {
  const file = join(dir, "bom.json");
  await writeFile(file, '\uFEFF{ "listen": { "port": 9101 } }');
  await expect(loadConfigFile(file, {})).resolves.toMatchObject({ listen: { port: 9101 } });
});

test("a .json file is read as strict JSON; its errors name the file, line and column", async () => {
  const file = join(dir, "herald.json");
  await writeFile(file, '{\n  "listen": { "port": 9102 },\n}\n');
  await expect(loadConfigFile(file, {})).rejects.toThrow(
    `${file}:2:29 invalid JSON: a trailing comma before '}' is not JSON`,
  );
  await writeFile(file, '{\n  "listen": { "port": 9102 },\n  "lisen": {}\n}\n');
  await expect(loadConfigFile(file, {})).rejects.toThrow(
    `${file}:3:3 lisen: unknown key; expected one of:`,
  );
});

test("a missing file rejects with the file system's error", async () => {
  await expect(loadConfigFile(join(dir, "nope.yaml"), {})).rejects.toMatchObject({
    code: "ENOENT",
  });
});

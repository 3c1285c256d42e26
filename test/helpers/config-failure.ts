/** What the config tests assert a refused environment on: loadConfig's ConfigError message. */
import { expect } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.js";

/** The message of the ConfigError loadConfig throws for `env`; fails the test when it throws none or another error. */
export function configFailure(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

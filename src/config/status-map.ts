import { END_STATUSES } from "../model/index.js";

/** The value written for the provider status `status`: its STATUS_MAP entry, or itself. */
export function mapStatus(statusMap: Readonly<Record<string, string>>, status: string): string {
  return Object.hasOwn(statusMap, status) ? (statusMap[status] as string) : status;
}

const EXAMPLE = "e.g. STATUS_MAP=no-answer:missed,canceled:cancelled,timeout:ended";

/**
 * STATUS_MAP: `status:value,status:value`, each status one the daemon writes (END_STATUSES), at most once, and
 * no value one of the active statuses (the call would stay live and be ended again every pass); nor may an
 * unmapped end status be an active one. Throws an Error whose message names the variable to fix (loadConfig
 * makes it a ConfigError).
 */
export function parseStatusMap(raw: string, activeStatuses: readonly string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const entry of raw.split(",").map((x) => x.trim())) {
    if (entry === "") continue;
    const parts = entry.split(":").map((x) => x.trim());
    const [key, value] = parts;
    if (parts.length !== 2 || key === undefined || value === undefined || key === "" || value === "") {
      throw new Error(`STATUS_MAP entry "${entry}" must be status:value (${EXAMPLE})`);
    }
    if (!(END_STATUSES as readonly string[]).includes(key)) {
      throw new Error(
        `STATUS_MAP names "${key}", which the daemon never writes (it writes ${END_STATUSES.join(", ")})`,
      );
    }
    if (Object.hasOwn(map, key)) throw new Error(`STATUS_MAP maps "${key}" twice`);
    if (activeStatuses.includes(value)) {
      throw new Error(
        `STATUS_MAP maps "${key}" to "${value}", one of ACTIVE_STATUSES: the call would stay live`,
      );
    }
    map[key] = value;
  }
  refuseWrittenActive(map, activeStatuses);
  return map;
}

/**
 * An active status the daemon writes when it ends a call (an END_STATUSES value after STATUS_MAP) makes finished
 * rows look live: the age bound would rewrite every one of them and an end would look undone on the next pass.
 */
function refuseWrittenActive(map: Readonly<Record<string, string>>, activeStatuses: readonly string[]): void {
  for (const status of END_STATUSES) {
    const written = mapStatus(map, status);
    if (activeStatuses.includes(written)) {
      throw new Error(
        `ACTIVE_STATUSES includes "${written}", which the daemon writes when it ends a call: remove it from ACTIVE_STATUSES`,
      );
    }
  }
}

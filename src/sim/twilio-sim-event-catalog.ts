/**
 * The events v1 catalogue (`/v1/Types`, `/v1/Types/{Type}`, `/v1/Schemas/{Id}` and its `/Versions`) for the
 * voice status-callback types the simulator delivers, as the official OpenAPI description shapes it: a client
 * reads a type's `schema_id`, then that schema's versions, to know which `schema_version` to subscribe to.
 * The same for every account.
 */
import { DEFAULT_SCHEMA_VERSION, notAllowed } from "./twilio-sim-event-requests.js";
import { metaPage } from "./twilio-sim-event-resources.js";
import type { SimCallProgress } from "./twilio-sim-event-types.js";
import { jsonReply, notFound, type Reply } from "./twilio-sim-http.js";

/** The schema of the status-callback events, as the `dataschema` of those the simulator delivers names it. */
const STATUS_CALLBACK_SCHEMA = "Voice.WebhookEvent";
const RAW_SCHEMAS = "https://events-schemas.twilio.com";

/** Fixed dates: the catalogue is Twilio's, older than any simulated call. */
const TYPES_CREATED = "2021-07-20T16:00:00Z";
const VERSIONS_CREATED = ["2021-07-20T16:00:00Z", "2022-03-01T12:00:00Z"];

interface CatalogType {
  type: string;
  schemaId: string;
  status: "available" | "deprecated";
  description: string;
  documentationUrl: string | null;
}

const STEPS: readonly (SimCallProgress | "completed")[] = ["initiated", "ringing", "answered", "completed"];

const TYPES: readonly CatalogType[] = STEPS.flatMap((step): CatalogType[] => [
  {
    type: `com.twilio.voice.status-callback.call.${step}`,
    schemaId: STATUS_CALLBACK_SCHEMA,
    status: "available",
    description: `Voice - status callback: call ${step}`,
    documentationUrl: null,
  },
  {
    type: `com.twilio.voice.webhook.status-callback.call.${step}`,
    schemaId: STATUS_CALLBACK_SCHEMA,
    status: "deprecated",
    description: `Voice - status callback: call ${step} (deprecated name)`,
    documentationUrl: "https://www.twilio.com/docs/voice/voice-insights/event-streams",
  },
]);

/** Each schema's versions, oldest first; the newest is what a subscription gets when it names none. */
const SCHEMA_VERSIONS: ReadonlyMap<string, readonly number[]> = new Map([
  [STATUS_CALLBACK_SCHEMA, Array.from({ length: DEFAULT_SCHEMA_VERSION }, (_, i) => i + 1)],
]);

const typeJson = (base: string, t: CatalogType) => ({
  date_created: TYPES_CREATED,
  date_updated: TYPES_CREATED,
  type: t.type,
  schema_id: t.schemaId,
  status: t.status,
  documentation_url: t.documentationUrl,
  description: t.description,
  url: `${base}/v1/Types/${t.type}`,
  links: { schema: `${base}/v1/Schemas/${t.schemaId}/Versions` },
});

const versionJson = (base: string, id: string, version: number) => ({
  id,
  schema_version: version,
  date_created: VERSIONS_CREATED[version - 1] ?? VERSIONS_CREATED.at(-1),
  url: `${base}/v1/Schemas/${id}/Versions/${version}`,
  raw: `${RAW_SCHEMAS}/${id}/${version}`,
});

export interface CatalogRequest {
  method: string;
  pathname: string;
  query: URLSearchParams;
}

/** Answers a request under `/v1/Types` or `/v1/Schemas`; `parts` is the decoded path after `/v1/`. */
export function catalogReply(base: string, req: CatalogRequest, parts: readonly string[]): Reply {
  if (req.method !== "GET") return notAllowed("GET");
  const [collection, id, sub, version, ...rest] = parts;
  if (rest.length > 0) return notFound(req.pathname);
  if (collection === "Types") {
    if (sub !== undefined) return notFound(req.pathname);
    if (id === undefined) {
      const schemaId = req.query.get("SchemaId");
      const list = TYPES.filter((t) => schemaId === null || t.schemaId === schemaId);
      return metaPage(base, req, list, "types", (t) => typeJson(base, t), ["SchemaId"]);
    }
    const found = TYPES.find((t) => t.type === id);
    return found === undefined ? notFound(req.pathname) : jsonReply(200, typeJson(base, found));
  }
  const versions = id === undefined ? undefined : SCHEMA_VERSIONS.get(id);
  if (collection !== "Schemas" || id === undefined || versions === undefined) return notFound(req.pathname);
  if (sub === undefined) {
    const latest = versions.at(-1) ?? 0;
    return jsonReply(200, {
      id,
      url: `${base}/v1/Schemas/${id}`,
      links: { versions: `${base}/v1/Schemas/${id}/Versions` },
      latest_version_date_created: versionJson(base, id, latest).date_created,
      latest_version: latest,
    });
  }
  if (sub !== "Versions") return notFound(req.pathname);
  if (version === undefined)
    return metaPage(base, req, versions, "schema_versions", (v) => versionJson(base, id, v));
  const n = Number(version);
  return versions.includes(n) && String(n) === version
    ? jsonReply(200, versionJson(base, id, n))
    : notFound(req.pathname);
}

/**
 * The simulator's events v1 catalogue (Types, Schemas and their Versions) read through the official SDK:
 * what a client reads to choose a subscription's schema version.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CALL_COMPLETED_TYPE,
  LEGACY_CALL_COMPLETED_TYPE,
  startTwilioSimulator,
  type TwilioSimulator,
} from "../../src/sim/twilio-sim.js";
import { sdkToSimulator } from "../helpers/sdk-to-simulator.js";
import { basicAuth, PARENT, PARENT_TOKEN } from "../helpers/sim-parent.js";

const SCHEMA = "Voice.WebhookEvent";

let sim: TwilioSimulator;
const sdk = (pass = PARENT_TOKEN) => sdkToSimulator(sim.url, PARENT, PARENT, pass);

beforeEach(async () => {
  sim = await startTwilioSimulator({ accountSid: PARENT, authToken: PARENT_TOKEN });
});
afterEach(async () => {
  await sim.close();
});

describe("Twilio simulator: the events v1 catalogue of types and schemas", () => {
  it("a type names its schema, whose newest version is the one a subscription gets by default", async () => {
    const events = sdk().events.v1;
    const type = await events.eventTypes(CALL_COMPLETED_TYPE).fetch();
    expect(type).toMatchObject({
      type: CALL_COMPLETED_TYPE,
      schemaId: SCHEMA,
      status: "available",
      documentationUrl: null,
      url: `${sim.url}/v1/Types/${CALL_COMPLETED_TYPE}`,
      links: { schema: `${sim.url}/v1/Schemas/${SCHEMA}/Versions` },
    });
    expect(type.dateCreated).toBeInstanceOf(Date);
    expect(type.description).toMatch(/completed/);
    expect(await events.eventTypes(LEGACY_CALL_COMPLETED_TYPE).fetch()).toMatchObject({
      schemaId: SCHEMA,
      status: "deprecated",
    });

    const schema = await events.schemas(SCHEMA).fetch();
    expect(schema).toMatchObject({
      id: SCHEMA,
      latestVersion: 2,
      url: `${sim.url}/v1/Schemas/${SCHEMA}`,
      links: { versions: `${sim.url}/v1/Schemas/${SCHEMA}/Versions` },
    });
    expect(schema.latestVersionDateCreated).toBeInstanceOf(Date);

    const versions = await events.schemas(SCHEMA).versions.list();
    expect(versions.map((v) => [v.id, v.schemaVersion, v.raw])).toEqual([
      [SCHEMA, 1, `https://events-schemas.twilio.com/${SCHEMA}/1`],
      [SCHEMA, 2, `https://events-schemas.twilio.com/${SCHEMA}/2`],
    ]);
    expect(versions[1]?.url).toBe(`${sim.url}/v1/Schemas/${SCHEMA}/Versions/2`);
    expect(await events.schemas(SCHEMA).versions(2).fetch()).toMatchObject({ id: SCHEMA, schemaVersion: 2 });

    // The subscription the catalogue's answers lead to is the one named without a version.
    const sink = await events.sinks.create({
      description: "d",
      sinkType: "webhook",
      sinkConfiguration: { destination: "http://127.0.0.1:9/e", method: "POST" },
    });
    const sub = await events.subscriptions.create({
      description: "d",
      sinkSid: sink.sid,
      types: [{ type: CALL_COMPLETED_TYPE }],
    });
    const [subscribed] = await events.subscriptions(sub.sid).subscribedEvents.list();
    expect(subscribed?.schemaVersion).toBe(schema.latestVersion);
  });

  it("lists every voice status-callback type under both names, filtered by schema and paged with meta", async () => {
    const events = sdk().events.v1;
    const all = await events.eventTypes.list();
    const steps = ["initiated", "ringing", "answered", "completed"];
    expect(all.map((t) => t.type).sort()).toEqual(
      steps
        .flatMap((s) => [
          `com.twilio.voice.status-callback.call.${s}`,
          `com.twilio.voice.webhook.status-callback.call.${s}`,
        ])
        .sort(),
    );
    expect(all.every((t) => t.schemaId === SCHEMA)).toBe(true);

    // Three pages of three: the SDK follows each page's next_page_url.
    sim.resetStats();
    expect((await events.eventTypes.list({ schemaId: SCHEMA, pageSize: 3 })).length).toBe(8);
    const pages = sim.eventStats.apiRequests;
    expect(pages.map((r) => [r.method, r.path, r.status])).toEqual([
      ["GET", "/v1/Types", 200],
      ["GET", "/v1/Types", 200],
      ["GET", "/v1/Types", 200],
    ]);
    expect(pages.map((r) => r.query.SchemaId)).toEqual([[SCHEMA], [SCHEMA], [SCHEMA]]);
    expect(await events.eventTypes.list({ schemaId: "Messaging.MessageStatus" })).toEqual([]);

    const raw = await fetch(`${sim.url}/v1/Types?PageSize=2`, {
      headers: { authorization: basicAuth() },
    });
    const body = (await raw.json()) as { types: unknown[]; meta: Record<string, unknown> };
    expect(body.types).toHaveLength(2);
    expect(body.meta).toMatchObject({
      page: 0,
      page_size: 2,
      key: "types",
      previous_page_url: null,
      first_page_url: `${sim.url}/v1/Types?PageSize=2&Page=0`,
      next_page_url: expect.stringMatching(/\/v1\/Types\?PageSize=2&Page=1&PageToken=/),
    });
  });

  it("answers 404 for an unknown type, schema or version, 405 for a write, 401 for a wrong token", async () => {
    const events = sdk().events.v1;
    for (const unknown of [
      () => events.eventTypes("com.twilio.voice.status-callback.call.nope").fetch(),
      () => events.schemas("Messaging.MessageStatus").fetch(),
      () => events.schemas(SCHEMA).versions(3).fetch(),
      () => events.schemas("Messaging.MessageStatus").versions.list(),
    ]) {
      await expect(unknown()).rejects.toMatchObject({ status: 404, code: 20404 });
    }
    const post = await fetch(`${sim.url}/v1/Types`, {
      method: "POST",
      headers: { authorization: basicAuth() },
    });
    expect(post.status).toBe(405);
    await expect(sdk("wrong").events.v1.eventTypes(CALL_COMPLETED_TYPE).fetch()).rejects.toMatchObject({
      status: 401,
    });
    expect(sim.eventStats.apiRequests.map((r) => [r.method, r.path, r.status])).toEqual([
      ["GET", "/v1/Types/com.twilio.voice.status-callback.call.nope", 404],
      ["GET", "/v1/Schemas/Messaging.MessageStatus", 404],
      ["GET", `/v1/Schemas/${SCHEMA}/Versions/3`, 404],
      ["GET", "/v1/Schemas/Messaging.MessageStatus/Versions", 404],
      ["POST", "/v1/Types", 405],
    ]);
  });
});

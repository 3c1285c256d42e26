/**
 * Unit test files share their worker process (isolate: false). This runs before each file is imported, so
 * that each one starts as it would in a process of its own, whatever the file before it left behind: nock
 * intercepting HTTP (as from its import on) with no mocks and real connections allowed, and a real clock.
 */
import nock from "nock";
import { vi } from "vitest";

vi.useRealTimers();
nock.cleanAll();
nock.enableNetConnect();
if (!nock.isActive()) nock.activate();

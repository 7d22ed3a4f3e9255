// A real answer checked against what the route table declares for its endpoint (and so what
// /openapi.json says): its status is one of the declared answers or error statuses, a JSON body
// matches the declared schema exactly (no field the schema does not name), an error body is the
// catalog's shape with a code the endpoint declares.

import { expect } from "vitest";
import { ERROR_STATUS } from "../../protocol/errors.js";
import { errorBody } from "../../protocol/wire-schemas.js";
import { errorCodes } from "../../worker/openapi.js";
import type { AnyEndpoint, SuccessStatus } from "../../worker/router.js";
import type { Reply } from "./relay.js";

export function expectDeclaredAnswer(route: { path: string; method: string; endpoint: AnyEndpoint }, reply: Reply): void {
  const what = `${route.method} ${route.path} answered ${reply.status} ${reply.text.slice(0, 300)}`;
  const answer = route.endpoint.answers[reply.status as SuccessStatus];
  if (answer) {
    if (answer.json) {
      const parsed = answer.json.safeParse(reply.body);
      expect(parsed.error?.issues, what).toBeUndefined();
      // zod drops fields a schema does not name: a field the relay added without declaring it shows here.
      expect(parsed.data, what).toEqual(reply.body);
    } else if (answer.media) {
      expect(answer.media, what).toContain(reply.headers.get("Content-Type")?.split(";")[0]);
    } else {
      expect(reply.text, what).toBe("");
    }
    return;
  }
  const codes = errorCodes(route.path, route.endpoint);
  expect(
    codes.map((code) => ERROR_STATUS[code]),
    `${what}: not a status its declaration gives (answers: ${Object.keys(route.endpoint.answers)}, errors: ${codes})`,
  ).toContain(reply.status);
  const parsed = errorBody.safeParse(reply.body);
  expect(parsed.error?.issues, what).toBeUndefined();
  expect(parsed.data, what).toEqual(reply.body);
  expect(codes, what).toContain(parsed.data?.code);
}

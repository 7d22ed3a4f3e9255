// Invite codes (admin): an invite lets an agent register itself through POST /register.

import { z } from "zod";
import { failures, RelayError } from "../../protocol/errors.js";
import { invite } from "../../protocol/wire-schemas.js";
import { directoryStub } from "../../durable-objects/stubs.js";
import { json } from "../http.js";
import { endpoint, type RouteTable } from "../router.js";
import { bodies } from "../schemas.js";

export const inviteRoutes: RouteTable = {
  "/invites": {
    POST: endpoint({
      operationId: "createInvite",
      summary: "Create an invite code (label, maxUses, expiresInHours)",
      access: "admin",
      body: bodies.invite,
      answers: { 201: { description: "The new invite", json: invite } },
      async handle(c) {
        return json(await directoryStub(c.env).createInvite(c.body), 201);
      },
    }),
    GET: endpoint({
      operationId: "listInvites",
      summary: "List invite codes",
      access: "admin",
      answers: { 200: { description: "Every invite, newest first", json: z.array(invite) } },
      async handle(c) {
        return json(await directoryStub(c.env).listInvites());
      },
    }),
  },
  "/invites/:code": {
    DELETE: endpoint({
      operationId: "deleteInvite",
      summary: "Revoke an invite code",
      access: "admin",
      answers: { 204: { description: "The invite is revoked" } },
      fails: ["NOT_FOUND"],
      async handle(c) {
        const deleted = await directoryStub(c.env).deleteInvite(c.params.code ?? "");
        if (!deleted) throw new RelayError(failures.noSuchInvite);
        return new Response(null, { status: 204 });
      },
    }),
  },
};

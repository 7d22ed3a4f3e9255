// Invite codes (admin): an invite lets an agent register itself through POST /register.

import { failures, RelayError } from "../../protocol/errors.js";
import { directoryStub } from "../../durable-objects/stubs.js";
import { json } from "../http.js";
import { endpoint, type RouteTable } from "../router.js";
import { bodies } from "../schemas.js";

export const inviteRoutes: RouteTable = {
  "/invites": {
    POST: endpoint({
      summary: "Create an invite code (label, maxUses, expiresInHours)",
      access: "admin",
      body: bodies.invite,
      async handle(c) {
        return json(await directoryStub(c.env).createInvite(c.body), 201);
      },
    }),
    GET: endpoint({
      summary: "List invite codes",
      access: "admin",
      async handle(c) {
        return json(await directoryStub(c.env).listInvites());
      },
    }),
  },
  "/invites/:code": {
    DELETE: endpoint({
      summary: "Revoke an invite code",
      access: "admin",
      async handle(c) {
        const deleted = await directoryStub(c.env).deleteInvite(c.params.code ?? "");
        if (!deleted) throw new RelayError(failures.noSuchInvite);
        return new Response(null, { status: 204 });
      },
    }),
  },
};

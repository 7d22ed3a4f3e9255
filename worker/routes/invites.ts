// Invite codes (admin): an invite lets an agent register itself through POST /register.

import { RelayError } from "../../protocol/errors.js";
import { directoryStub } from "../../durable-objects/directory.js";
import { json } from "../http.js";
import type { RouteTable } from "../router.js";
import { parseInvite } from "../schemas.js";

export const inviteRoutes: RouteTable = {
  "/invites": {
    POST: {
      summary: "Create an invite code (label, maxUses, expiresInHours)",
      access: "admin",
      body: true,
      async handle(c) {
        return json(await directoryStub(c.env).createInvite(parseInvite(c.limits, c.body)), 201);
      },
    },
    GET: {
      summary: "List invite codes",
      access: "admin",
      async handle(c) {
        return json(await directoryStub(c.env).listInvites());
      },
    },
  },
  "/invites/:code": {
    DELETE: {
      summary: "Revoke an invite code",
      access: "admin",
      async handle(c) {
        const deleted = await directoryStub(c.env).deleteInvite(c.params.code ?? "");
        if (!deleted) throw new RelayError("NOT_FOUND", "No such invite.");
        return new Response(null, { status: 204 });
      },
    },
  },
};

// The fields the relay's answers are made of (wire-schemas.ts, wire-schemas-system.ts), and how a
// shape gets its name in /openapi.json.

import { z } from "zod";
import type { DeliveryVia, Envelope, JsonValue } from "./envelope.js";
import { DELIVERY_VIAS, MESSAGE_TYPES } from "./envelope.js";
import { parseIsoTime } from "./time.js";

/** A named shape: zod's registry keeps the id, and /openapi.json lists it under `components`. */
export function named<T extends z.ZodType>(id: string, description: string, schema: T): T {
  return schema.meta({ id, description });
}

/** A time the relay assigned: ISO-8601 UTC with milliseconds. */
export const relayTime = z.iso.datetime();
/** A time a client gave (sentAt, an audit entry's ts): ISO-8601 with a zone, kept as sent. */
export const clientTime = z
  .string()
  .refine((text) => parseIsoTime(text) !== null)
  .meta({ format: "date-time" });
export const count = z.int().nonnegative();
export const jsonValue = z.custom<JsonValue>(() => true).meta({ description: "Any JSON value" });
export const jsonObject = z.record(z.string(), jsonValue);
export const recipients = z.union([z.string(), z.array(z.string())]).meta({ description: 'One name, several names, or "broadcast", as the sender wrote it' });
export const messageType = z.enum(MESSAGE_TYPES as [Envelope["type"], ...Envelope["type"][]]);
export const deliveryVia = z.enum(DELIVERY_VIAS as [DeliveryVia, ...DeliveryVia[]]);

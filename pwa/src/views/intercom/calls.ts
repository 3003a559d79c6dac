import type { paths } from "@/api/schema";
import type { IncomingCall } from "@/intercom";

/** The JSON body of a response object from the generated schema. */
type Json<R> = R extends { content: { "application/json": infer Body } } ? Body : never;

export type CallQuery = NonNullable<paths["/api/v1/calls"]["get"]["parameters"]["query"]>;
export type CallPage = Json<paths["/api/v1/calls"]["get"]["responses"][200]>;
export type CallRecord = CallPage["items"][number];
export type UnlockResult = Json<paths["/api/v1/calls/{call_id}/unlock"]["post"]["responses"][200]>;

/** A ringing call's record as the incoming-call screen shows it. */
export function ringingCall(record: CallRecord): IncomingCall {
  return {
    id: record.id,
    station: record.station_name,
    doorName: record.door_name,
    target: record.target,
    reason: record.reason,
    householdLabel: record.household_label,
    startedAt: record.started_at,
    fromApp: record.station_id === null,
  };
}

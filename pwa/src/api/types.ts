import type { paths } from "./schema";

/** The JSON body of a response object from the generated schema. */
type Json<R> = R extends { content: { "application/json": infer Body } } ? Body : never;

// Derived from paths, not from component names, so the types survive regeneration from the real spec.
export type Me = Json<paths["/api/v1/auth/me"]["get"]["responses"][200]>;
export type RoleAssignment = Me["roles"][number];
export type Role = RoleAssignment["role"];
export type LoginResult = Json<paths["/api/v1/auth/login"]["post"]["responses"][200]>;
export type TotpResult = Json<paths["/api/v1/auth/totp"]["post"]["responses"][200]>;
export type AuthState = LoginResult["state"];
export type AuditQuery = NonNullable<paths["/api/v1/audit"]["get"]["parameters"]["query"]>;
export type AuditPage = Json<paths["/api/v1/audit"]["get"]["responses"][200]>;
export type AuditEntry = AuditPage["items"][number];

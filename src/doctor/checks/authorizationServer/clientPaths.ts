/**
 * Which way each client will get a client id at this authorization server, following what the
 * clients do today (MCP 2026-07-28: pre-registered → CIMD → DCR):
 *
 * - ChatGPT: a Client ID Metadata Document when `client_id_metadata_document_supported`, else DCR;
 * - Claude: CIMD only when `none` is also in `token_endpoint_auth_methods_supported`, else DCR;
 * - VS Code: CIMD when advertised, else DCR.
 *
 * Neither possible is a ✗ with the fix. Keycloak 26.7 advertises CIMD as soon as its `cimd` feature
 * is on, then refuses ChatGPT's and Claude's documents: that is a ✗ too.
 */
import { check } from '../../check.js';
import type { CheckResult } from '../../types.js';

export type RegistrationPath = 'cimd' | 'dcr' | 'none';

interface Client {
  id: string;
  name: string;
  usesCimd(meta: Record<string, unknown>): boolean;
  /** Keycloak 26.7 refuses this client's metadata document. */
  keycloak267Refuses: boolean;
}

const advertisesCimd = (meta: Record<string, unknown>) => meta.client_id_metadata_document_supported === true;
const CLIENTS: Client[] = [
  { id: 'path-chatgpt', name: 'ChatGPT', usesCimd: advertisesCimd, keycloak267Refuses: true },
  {
    id: 'path-claude',
    name: 'Claude',
    usesCimd: (meta) =>
      advertisesCimd(meta) &&
      Array.isArray(meta.token_endpoint_auth_methods_supported) &&
      meta.token_endpoint_auth_methods_supported.includes('none'),
    keycloak267Refuses: true,
  },
  { id: 'path-vscode', name: 'VS Code', usesCimd: advertisesCimd, keycloak267Refuses: false },
];

/** A Keycloak realm's issuer: `https://host/realms/<realm>`. */
function isKeycloak(issuer: string): boolean {
  return /\/realms\/[^/]+$/.test(new URL(issuer).pathname);
}

export function registrationPath(client: Client, meta: Record<string, unknown>): RegistrationPath {
  if (client.usesCimd(meta)) return 'cimd';
  return typeof meta.registration_endpoint === 'string' ? 'dcr' : 'none';
}

export function checkClientPaths(issuer: string, meta: Record<string, unknown>): CheckResult[] {
  return CLIENTS.map((client) => {
    const c = check(client.id, `${client.name} gets a client id`);
    const path = registrationPath(client, meta);
    if (path === 'none') {
      return c.fail(
        `${client.name} finds neither a Client ID Metadata Document nor dynamic registration: it cannot connect unless an administrator registers it by hand`,
        'advertise client_id_metadata_document_supported (the embedded server does) or a registration_endpoint (Keycloak: anonymous registration policies, docs/keycloak.md)',
      );
    }
    if (path === 'cimd' && client.keycloak267Refuses && isKeycloak(issuer)) {
      return c.fail(
        `this Keycloak realm advertises Client ID Metadata Documents, so ${client.name} sends its document, and Keycloak 26.7 refuses it (docs/keycloak.md)`,
        'turn the cimd feature off until Keycloak 26.8 so that clients register dynamically instead',
        'Client ID Metadata Document',
      );
    }
    return c.pass(
      path === 'cimd'
        ? 'Client ID Metadata Document (client_id_metadata_document_supported)'
        : 'dynamic client registration (registration_endpoint)',
    );
  });
}

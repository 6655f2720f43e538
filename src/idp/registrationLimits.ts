/**
 * Size limits on dynamic registration metadata (RFC 7591), so a registration cannot store
 * megabytes: names and URLs have a maximum length, URI lists a maximum count, and the whole
 * metadata a maximum size; beyond, `invalid_client_metadata` naming the field and the limit.
 */
import { errors } from 'oidc-provider';

/** `POST /reg` bodies larger than this are refused before parsing. */
export const MAX_REGISTRATION_BODY_BYTES = 16 * 1024;
/** The metadata as stored (recognised fields only). */
export const MAX_METADATA_BYTES = 8 * 1024;

const MAX_LENGTH: Record<string, number> = {
  client_name: 200,
  client_uri: 2000,
  logo_uri: 2000,
  policy_uri: 2000,
  tos_uri: 2000,
};
const MAX_ITEMS: Record<string, number> = { redirect_uris: 20, post_logout_redirect_uris: 20, contacts: 10 };

/** The properties checked here besides the redirect URIs (given to `extraClientMetadata`). */
export const LIMITED_PROPERTIES = [...Object.keys(MAX_LENGTH), 'contacts'];

/** Called for each property; throws `invalid_client_metadata` naming the field over its limit. */
export function checkMetadataSize(key: string, value: unknown, metadata: Record<string, unknown>): void {
  const maxLength = MAX_LENGTH[key];
  if (maxLength !== undefined && typeof value === 'string' && value.length > maxLength) {
    throw new errors.InvalidClientMetadata(`${key} is ${value.length} characters; at most ${maxLength}`);
  }
  const maxItems = MAX_ITEMS[key];
  if (maxItems !== undefined && Array.isArray(value)) {
    if (value.length > maxItems) {
      throw new errors.InvalidClientMetadata(`${key} has ${value.length} entries; at most ${maxItems}`);
    }
    const long = value.find((v) => typeof v === 'string' && v.length > 2000);
    if (long !== undefined)
      throw new errors.InvalidClientMetadata(`an entry of ${key} is over 2000 characters`);
  }
  if (key === 'redirect_uris') {
    const size = Buffer.byteLength(JSON.stringify(metadata));
    if (size > MAX_METADATA_BYTES) {
      throw new errors.InvalidClientMetadata(
        `the client metadata is ${size} bytes; at most ${MAX_METADATA_BYTES}`,
      );
    }
  }
}

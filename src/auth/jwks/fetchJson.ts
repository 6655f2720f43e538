/**
 * GET a JSON document from the authorization server with a timeout and a size cap.
 */
export class FetchJsonError extends Error {
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(`${url}: ${message}`);
    this.name = 'FetchJsonError';
  }
}

export async function fetchJson(
  url: string,
  { timeoutMs = 5000, maxBytes = 512 * 1024 }: { timeoutMs?: number; maxBytes?: number } = {},
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new FetchJsonError(
      url,
      `request failed (${cause ?? (err as Error).name}: ${(err as Error).message})`,
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new FetchJsonError(url, `HTTP ${res.status}`);
  }
  const text = await res.text();
  if (text.length > maxBytes) throw new FetchJsonError(url, `response larger than ${maxBytes} bytes`);
  try {
    return JSON.parse(text);
  } catch {
    throw new FetchJsonError(url, 'response is not JSON');
  }
}

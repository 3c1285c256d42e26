/** GET `path` with the given headers (say, `Authorization: Bearer …`): status and body. */
export async function fetchWith(
  url: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(`${url}${path}`, { headers, signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

import { type Api, ApiError } from './client.ts';
import { baseUrl } from './session.ts';

function fileNameFrom(response: Response, fallback: string): string {
  const disposition = response.headers.get('content-disposition') ?? '';
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
  if (encoded) return decodeURIComponent(encoded);
  return /filename="?([^";]+)"?/i.exec(disposition)?.[1] ?? fallback;
}

/**
 * Downloads an API file (an export, errors.csv, a backup) with the session's token — a plain
 * link cannot send it — and hands it to the browser as a file. Returns the file's name.
 */
export async function downloadFile(api: Api, path: string, fallbackName: string): Promise<string> {
  const response = await api.fetch(new Request(new URL(path, baseUrl())));
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new ApiError(
      body && typeof body === 'object' && 'title' in body
        ? { ...(body as { title: string }), status: response.status }
        : { title: `Download failed (${response.status})`, status: response.status },
    );
  }
  const name = fileNameFrom(response, fallbackName);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has taken the file once click() returns; keep the URL briefly for slow ones.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

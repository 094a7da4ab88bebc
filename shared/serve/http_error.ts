/**
 * An error with an HTTP status, for answers the client caused (a bad notion, an unknown id,
 * an upload too big): the handler turns it into a JSON answer naming the field at fault.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The request field at fault: a query parameter, "id" or "body". */
    readonly field?: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

/** The JSON answer of a failed request: {"error": {"status", "message", "field"?}}. */
export function errorResponse(status: number, message: string, field?: string): Response {
  return jsonResponse({ error: { status, message, ...(field ? { field } : {}) } }, status);
}

/**
 * The service's routes as one handler, Request -> Response, on a catalog and an embedder:
 * no sockets here (server.ts adds those), so the tests can also call it directly. Every
 * answer is JSON but the page, the item images and the OpenAPI document's own type.
 */
import type { InputShape } from "../explore/image_input.ts";
import type { Neighbours } from "../eval/knn.ts";
import type { Catalog } from "./catalog.ts";
import { errorResponse, HttpError, jsonResponse } from "./http_error.ts";
import { integerParam, invertParam, itemId, kParam, MAX_PAGE, notionParam } from "./api_params.ts";
import { prepareUpload, readBody } from "./upload.ts";
import { openApiDocument } from "./openapi.ts";
import { PAGE_HTML } from "./page.ts";

export interface Service {
  readonly catalog: Catalog;
  /** How uploads are decoded: as preprocess decoded the catalog's images. */
  readonly input: InputShape;
  /** One length-d embedding per network of an image's pixels (prepared for `input`). */
  embed(pixels: Uint8Array): Promise<Float32Array[]>;
  /** Item `id`'s image as PNG bytes. */
  itemImage(id: number): Uint8Array;
}

export interface ApiOptions {
  /** Uploads over this many bytes get 413. */
  readonly maxUpload: number;
  readonly log: (message: string) => void;
}

function itemJson(catalog: Catalog, id: number) {
  const item = catalog.item(id)!;
  return { id, path: item.path, labels: item.labels, image: `/api/items/${id}/image` };
}

function neighboursJson(catalog: Catalog, found: Neighbours) {
  return Array.from(found.indices, (id, i) => ({
    rank: i + 1,
    distance: found.distances[i]!,
    ...itemJson(catalog, id),
  }));
}

function notionsJson(catalog: Catalog) {
  const { header } = catalog;
  return {
    count: catalog.count,
    d: header.d,
    model: { artefact: header.model, checkpoint: header.checkpoint, mode: header.mode },
    masks: header.masks,
    image: header.image,
    notions: catalog.notions,
  };
}

async function uploadedImage(request: Request, service: Service, options: ApiOptions) {
  const url = new URL(request.url);
  const invert = invertParam(url);
  const body = await readBody(request, options.maxUpload);
  const contentType = request.headers.get("content-type") ?? "";
  const pixels = await prepareUpload(body, contentType, { ...service.input, invert });
  return await service.embed(pixels);
}

type Route = (request: Request, match: string[]) => Promise<Response> | Response;

/** The handler; unknown paths 404, known paths with another method 405. */
export function createApi(
  service: Service,
  options: ApiOptions,
): (r: Request) => Promise<Response> {
  const { catalog } = service;
  const routes: [string, RegExp, Route][] = [
    ["GET", /^\/$/, () => new Response(PAGE_HTML, { headers: { "content-type": "text/html" } })],
    ["GET", /^\/api\/openapi\.json$/, () => jsonResponse(openApiDocument(catalog))],
    ["GET", /^\/api\/notions$/, () => jsonResponse(notionsJson(catalog))],
    ["GET", /^\/api\/items$/, (request) => {
      const url = new URL(request.url);
      const offset = integerParam(url, "offset", 0, 0, catalog.count);
      const limit = integerParam(url, "limit", 50, 1, MAX_PAGE);
      const end = Math.min(catalog.count, offset + limit);
      const items = Array.from({ length: end - offset }, (_, i) => itemJson(catalog, offset + i));
      return jsonResponse({ count: catalog.count, offset, items });
    }],
    [
      "GET",
      /^\/api\/items\/([^/]+)$/,
      (_, [id]) => jsonResponse(itemJson(catalog, itemId(id!, catalog))),
    ],
    [
      "GET",
      /^\/api\/items\/([^/]+)\/image$/,
      (_, [id]) =>
        new Response(service.itemImage(itemId(id!, catalog)) as Uint8Array<ArrayBuffer>, {
          headers: { "content-type": "image/png", "cache-control": "max-age=3600" },
        }),
    ],
    ["GET", /^\/api\/items\/([^/]+)\/similar$/, (request, [text]) => {
      const url = new URL(request.url);
      const id = itemId(text!, catalog);
      const c = notionParam(url, catalog);
      const k = kParam(url);
      const found = catalog.similarToItem(c, id, k);
      return jsonResponse({
        notion: catalog.notions[c]!.name,
        k,
        query: itemJson(catalog, id),
        neighbours: neighboursJson(catalog, found),
      });
    }],
    ["POST", /^\/api\/similar$/, async (request) => {
      const url = new URL(request.url);
      const c = notionParam(url, catalog);
      const k = kParam(url);
      const embeddings = await uploadedImage(request, service, options);
      const found = catalog.similarToVector(c, embeddings, k);
      return jsonResponse({
        notion: catalog.notions[c]!.name,
        k,
        query: null,
        neighbours: neighboursJson(catalog, found),
      });
    }],
    ["POST", /^\/api\/embed$/, async (request) => {
      const embeddings = await uploadedImage(request, service, options);
      return jsonResponse({
        d: catalog.header.d,
        embedding: Array.from(embeddings[0]!),
        ...(embeddings.length > 1 ? { embeddings: embeddings.map((e) => Array.from(e)) } : {}),
        masked: catalog.maskedVectors(embeddings),
      });
    }],
  ];

  return async (request: Request): Promise<Response> => {
    const path = new URL(request.url).pathname;
    try {
      let allowed: string[] = [];
      for (const [method, pattern, route] of routes) {
        const match = pattern.exec(path);
        if (!match) continue;
        if (method === request.method || (method === "GET" && request.method === "HEAD")) {
          return await route(request, match.slice(1).map(decodeURIComponent));
        }
        allowed = [...allowed, method];
      }
      if (allowed.length > 0) {
        const response = errorResponse(
          405,
          `Cannot ${request.method} ${path}: it answers ${allowed.join(", ")}`,
        );
        response.headers.set("allow", allowed.join(", "));
        return response;
      }
      return errorResponse(404, `Cannot find ${path}: no such route (see /api/openapi.json)`);
    } catch (error) {
      if (error instanceof HttpError) {
        return errorResponse(error.status, error.message, error.field);
      }
      if (error instanceof URIError) {
        return errorResponse(400, `Cannot read ${path}: ${error.message}`);
      }
      // The client did nothing wrong: log it, answer 500 and keep serving.
      options.log(`serve: ${request.method} ${path} failed: ${(error as Error)?.stack ?? error}`);
      return errorResponse(
        500,
        `Cannot answer ${request.method} ${path}: ${(error as Error)?.message ?? error}`,
      );
    }
  };
}

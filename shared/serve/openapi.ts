/**
 * The OpenAPI 3.1 description of the service, served at /api/openapi.json: the notions of the
 * served catalog are the notion parameter's enum, so a client generator sees what is valid.
 */
import type { Catalog } from "./catalog.ts";
import { DEFAULT_K, MAX_K, MAX_PAGE } from "./api_params.ts";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const error = (description: string) => json(ref("Error"), description);

const imageBody = {
  required: true,
  description: "A JPEG, PNG or WebP image (told apart by its bytes, not its Content-Type)",
  content: Object.fromEntries(
    ["image/jpeg", "image/png", "image/webp", "application/octet-stream"].map((type) => [
      type,
      { schema: { type: "string", contentMediaType: type } },
    ]),
  ),
};

const uploadErrors = {
  "400": error("A bad parameter or a damaged image; `field` names it"),
  "413": error("The upload is over the size limit"),
  "415": error("The upload is not a JPEG, PNG or WebP image"),
};

export function openApiDocument(catalog: Catalog): Record<string, unknown> {
  const notions = catalog.notions.map((n) => n.name);
  const notion = {
    name: "notion",
    in: "query",
    required: true,
    description: "The notion of similarity whose masked subspace to search",
    schema: { type: "string", enum: notions },
  };
  const k = {
    name: "k",
    in: "query",
    required: false,
    description: "How many neighbours",
    schema: { type: "integer", minimum: 1, maximum: MAX_K, default: DEFAULT_K },
  };
  const invert = {
    name: "invert",
    in: "query",
    required: false,
    description: "Invert gray levels after resizing (dark ink on light paper, for glyphs)",
    schema: { type: "boolean", default: false },
  };
  const id = {
    name: "id",
    in: "path",
    required: true,
    description: "The item's place in the index, 0 to count - 1",
    schema: { type: "integer", minimum: 0 },
  };
  const vector = { type: "array", items: { type: "number" } };
  return {
    openapi: "3.1.0",
    info: {
      title: "csn similarity service",
      version: "1.0.0",
      description: "Nearest catalog items under one notion of similarity (Conditional " +
        "Similarity Networks): exact k-NN in the notion's masked embedding subspace.",
    },
    paths: {
      "/api/notions": {
        get: {
          operationId: "notions",
          summary: "The catalog, the model and its notions",
          responses: { "200": json(ref("Notions"), "The notions") },
        },
      },
      "/api/items": {
        get: {
          operationId: "items",
          summary: "One page of catalog items",
          parameters: [
            { name: "offset", in: "query", schema: { type: "integer", minimum: 0, default: 0 } },
            {
              name: "limit",
              in: "query",
              schema: { type: "integer", minimum: 1, maximum: MAX_PAGE, default: 50 },
            },
          ],
          responses: {
            "200": json(ref("ItemPage"), "The items"),
            "400": error("A bad offset or limit"),
          },
        },
      },
      "/api/items/{id}": {
        get: {
          operationId: "item",
          summary: "One item: its path and labels",
          parameters: [id],
          responses: { "200": json(ref("Item"), "The item"), "404": error("No such item") },
        },
      },
      "/api/items/{id}/image": {
        get: {
          operationId: "itemImage",
          summary: "The item's image as the model sees it (PNG)",
          parameters: [id],
          responses: {
            "200": {
              description: "PNG",
              content: {
                "image/png": { schema: { type: "string", contentMediaType: "image/png" } },
              },
            },
            "404": error("No such item"),
          },
        },
      },
      "/api/items/{id}/similar": {
        get: {
          operationId: "similarToItem",
          summary: "The k items nearest to a catalog item under a notion (itself left out)",
          parameters: [id, notion, k],
          responses: {
            "200": json(ref("Similar"), "Neighbours, nearest first"),
            "400": error("A bad notion or k; `field` names it"),
            "404": error("No such item"),
          },
        },
      },
      "/api/similar": {
        post: {
          operationId: "similarToImage",
          summary: "The k items nearest to an uploaded image under a notion",
          parameters: [notion, k, invert],
          requestBody: imageBody,
          responses: { "200": json(ref("Similar"), "Neighbours, nearest first"), ...uploadErrors },
        },
      },
      "/api/embed": {
        post: {
          operationId: "embed",
          summary: "An uploaded image's embedding and each notion's masked vector",
          parameters: [invert],
          requestBody: imageBody,
          responses: { "200": json(ref("Embedding"), "The vectors"), ...uploadErrors },
        },
      },
    },
    components: {
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["status", "message"],
              properties: {
                status: { type: "integer" },
                message: { type: "string" },
                field: { type: "string", description: "The request field at fault" },
              },
            },
          },
        },
        Item: {
          type: "object",
          required: ["id", "path", "labels", "image"],
          properties: {
            id: { type: "integer" },
            path: { type: "string" },
            labels: {
              type: "object",
              additionalProperties: { type: ["string", "null"] },
              description: "Each notion's value; null where unlabelled",
            },
            image: { type: "string", description: "The URL of the item's image" },
          },
        },
        Neighbour: {
          allOf: [ref("Item"), {
            type: "object",
            required: ["rank", "distance"],
            properties: { rank: { type: "integer" }, distance: { type: "number" } },
          }],
        },
        Similar: {
          type: "object",
          required: ["notion", "k", "query", "neighbours"],
          properties: {
            notion: { type: "string" },
            k: { type: "integer" },
            query: { oneOf: [ref("Item"), { type: "null" }] },
            neighbours: { type: "array", items: ref("Neighbour") },
          },
        },
        ItemPage: {
          type: "object",
          required: ["count", "offset", "items"],
          properties: {
            count: { type: "integer" },
            offset: { type: "integer" },
            items: { type: "array", items: ref("Item") },
          },
        },
        Notions: {
          type: "object",
          required: ["count", "d", "model", "masks", "image", "notions"],
          properties: {
            count: { type: "integer" },
            d: { type: "integer" },
            model: { type: "object" },
            masks: { type: "string" },
            image: { type: "object" },
            notions: {
              type: "array",
              items: {
                type: "object",
                required: ["name", "values", "dims"],
                properties: {
                  name: { type: "string" },
                  values: { type: "array", items: { type: "string" } },
                  dims: { type: "integer" },
                },
              },
            },
          },
        },
        Embedding: {
          type: "object",
          required: ["d", "embedding", "masked"],
          properties: {
            d: { type: "integer" },
            embedding: { ...vector, description: "The unmasked embedding (length d)" },
            embeddings: {
              type: "array",
              items: vector,
              description: "Task-specific models only: one embedding per network",
            },
            masked: {
              type: "object",
              additionalProperties: vector,
              description: "Each notion's masked vector, embedding * mask (length d)",
            },
          },
        },
      },
    },
  };
}

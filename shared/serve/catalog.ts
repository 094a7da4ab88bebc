/**
 * A served catalog: an index artefact's items with one exact search space per notion, built
 * once at start so that each query only scans. Pure: it holds arrays, not files.
 */
import type { CatalogIndex, IndexContents, IndexItem } from "../artefacts/catalog_index.ts";
import type { Neighbours } from "../eval/knn.ts";
import { NotionSpace } from "./notion_space.ts";

export interface NotionInfo {
  readonly name: string;
  readonly values: readonly string[];
  /** Dimensions its mask keeps. */
  readonly dims: number;
}

export class Catalog {
  readonly header: CatalogIndex;
  readonly notions: readonly NotionInfo[];
  readonly #spaces: NotionSpace[];

  constructor(contents: IndexContents) {
    const { header, embeddings } = contents;
    this.header = header;
    this.#spaces = header.notions.map((_, c) => {
      const net = embeddings.length === 1 ? embeddings[0]! : embeddings[c]!;
      return new NotionSpace(net, header.d, Float32Array.from(header.mask_values[c]!));
    });
    this.notions = header.notions.map((notion, c) => ({
      name: notion.name,
      values: notion.values,
      dims: this.#spaces[c]!.dims.length,
    }));
  }

  get count(): number {
    return this.header.count;
  }

  item(id: number): IndexItem | undefined {
    return Number.isInteger(id) ? this.header.items[id] : undefined;
  }

  notionIndex(name: string): number {
    return this.header.notions.findIndex((n) => n.name === name);
  }

  /** The k items nearest to item `id` under notion `c`, the item itself left out. */
  similarToItem(c: number, id: number, k: number): Neighbours {
    const space = this.#spaces[c]!;
    return space.nearest(space.projectItem(id), k, id);
  }

  /**
   * The k items nearest to an embedded image under notion `c`; `embeddings` holds one length-d
   * vector per network (task-specific models: one per notion).
   */
  similarToVector(c: number, embeddings: readonly Float32Array[], k: number): Neighbours {
    const space = this.#spaces[c]!;
    const vector = embeddings.length === 1 ? embeddings[0]! : embeddings[c]!;
    return space.nearest(space.project(vector), k);
  }

  /** Each notion's masked vector (e * m over all d dimensions) of an embedded image. */
  maskedVectors(embeddings: readonly Float32Array[]): Record<string, number[]> {
    return Object.fromEntries(this.header.notions.map((notion, c) => {
      const vector = embeddings.length === 1 ? embeddings[0]! : embeddings[c]!;
      const mask = this.header.mask_values[c]!;
      return [notion.name, Array.from(vector, (v, k) => v * mask[k]!)];
    }));
  }
}

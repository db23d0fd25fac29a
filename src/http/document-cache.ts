import type { DocumentNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import { BoundedLru } from "../bounded-lru.js";

/**
 * Yoga remembers parsed documents by their text, and each document's validation result beside it.
 * Its own cache holds 1,024 documents whatever their size, and 1,024 parse errors: a client that
 * sends distinct large or failing documents filled it with ~330 MB (issue 24), because a failing
 * document's cached errors still hold their stack's closures, and through them the whole request.
 * Here documents are bounded by their estimated size too, and a document that fails to parse or
 * to validate is not remembered: the next identical request parses it again (the limits keep a
 * parse linear and small).
 */
export const DOCUMENT_CACHE_MAX_ENTRIES = 1024;
/** Estimated bytes of cached documents (text and syntax tree). */
export const DOCUMENT_CACHE_MAX_BYTES = 32 * 1024 * 1024;
/** What a parsed document costs per lexical token (node, name, location and token objects), measured on this Node. */
const BYTES_PER_TOKEN = 350;

function estimatedBytes(source: string, document: DocumentNode): number {
  let tokens = 0;
  for (let token = document.loc?.startToken ?? null; token; token = token.next) tokens++;
  return 2 * source.length + BYTES_PER_TOKEN * tokens;
}

export interface DocumentCache {
  /** For createYoga's `parserAndValidationCache`. */
  yogaOptions: {
    documentCache: { get(key: string): DocumentNode | undefined; set(key: string, document: DocumentNode): void };
    errorCache: { get(key: string): undefined; set(key: string, error: unknown): void };
  };
  /** Forgets documents that fail validation (their errors are cached beside the document). */
  plugin: Plugin;
}

export function createDocumentCache(): DocumentCache {
  const documents = new BoundedLru<string, DocumentNode>("graphql documents", DOCUMENT_CACHE_MAX_ENTRIES, DOCUMENT_CACHE_MAX_BYTES, estimatedBytes);
  const keys = new WeakMap<DocumentNode, string>();
  return {
    yogaOptions: {
      documentCache: {
        get: (key) => documents.get(key),
        set(key, document) {
          documents.set(key, document);
          keys.set(document, key);
        },
      },
      errorCache: { get: () => undefined, set: () => {} },
    },
    plugin: {
      onValidate({ params }) {
        return ({ result }) => {
          if (result.length === 0) return;
          const key = keys.get(params.documentAST);
          if (key !== undefined && documents.peek(key) === params.documentAST) documents.delete(key);
        };
      },
    },
  };
}

"""Storage: one file per backend behind small protocols (protocols.py), all keyed by chunk key: vectors in
FAISS or Milvus, BM25 keywords in tantivy or Milvus, documents, chunks and sentences in SQLite. rag.registry
names each backend; backends.py turns a setting or a manifest entry into a store."""

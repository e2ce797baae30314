package redis

import goredis "github.com/redis/go-redis/v9"

// NewSessionStoreMultiNode returns a store that writes as it does on Redis
// Cluster (no MULTI across a session and its user's set), so that path is
// tested on a single Redis.
func NewSessionStoreMultiNode(client goredis.UniversalClient, prefix string) *SessionStore {
	st := NewSessionStore(client, prefix)
	st.singleNode = false
	return st
}

// WritesAsMultiNode reports whether the store takes the Cluster write path.
func (st *SessionStore) WritesAsMultiNode() bool { return !st.singleNode }

package org.canonic.gateway.placement;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where each client session's last request went, by backend name: a bounded LRU map. It seeds the choice when the
 * prompt alone cannot decide (no backend holds more of it than another), so a session whose first prompt shares only
 * a common system prompt with others still returns to the replica that computed the rest of its history. Sessions are
 * kept as a 64-bit hash of the client's id, never the id itself.
 */
final class SessionAffinity {

    static final int MAX_SESSIONS = 1 << 16;

    private final Map<Long, String> backends = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, String> eldest) {
            return size() > MAX_SESSIONS;
        }
    };

    synchronized String backendOf(String session) {
        return session == null ? null : backends.get(key(session));
    }

    synchronized void sent(String session, String backend) {
        if (session != null) {
            backends.put(key(session), backend);
        }
    }

    synchronized int size() {
        return backends.size();
    }

    private static long key(String session) {
        long hash = 1125899906842597L;
        for (int i = 0; i < session.length(); i++) {
            hash = 31 * hash + session.charAt(i);
        }
        return hash;
    }
}

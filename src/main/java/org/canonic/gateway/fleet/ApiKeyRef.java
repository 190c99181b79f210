package org.canonic.gateway.fleet;

import org.canonic.gateway.backend.Backend;


/**
 * Where a backend's upstream key comes from. Configured backends get theirs from configuration (which itself reads
 * the environment or a secret file); backends registered at run time name a reference instead, an environment
 * variable or a secret file, so the key is never sent to the admin API, never stored in the state directory and
 * never echoed back. The reference is resolved when the backend is registered and again at every start, under the
 * rules of {@link KeyPolicy}.
 */
public sealed interface ApiKeyRef {

    /** A key given by configuration; never persisted. */
    record Configured(Backend.Secret secret) implements ApiKeyRef {
        @Override
        public String describe() {
            return "configured";
        }
    }

    /** The name of an environment variable of the gateway's process. */
    record Env(String variable) implements ApiKeyRef {
        @Override
        public String describe() {
            return "env:" + variable;
        }
    }

    /** The path of a mounted secret file (its content, trimmed, is the key). */
    record File(String path) implements ApiKeyRef {
        @Override
        public String describe() {
            return "file:" + path;
        }
    }

    /** Secret-free description for views and the audit file. */
    String describe();
}

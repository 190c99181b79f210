package org.canonic.gateway.api;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;

/**
 * Reads a request body up to a limit. A declared length over the limit is refused before a byte is read; a body
 * that grows past it while streaming in is refused as soon as it does, so an oversized upload cannot exhaust memory.
 */
final class BoundedBody {

    /** The body is larger than the limit. */
    static final class TooLarge extends RuntimeException {
        TooLarge() {
            super("request body too large", null, false, false);
        }
    }

    private BoundedBody() {
    }

    static Future<Buffer> read(HttpServerRequest request, long limit) {
        Promise<Buffer> promise = Promise.promise();
        String declared = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        long declaredLength = parseLength(declared);
        if (declaredLength > limit) {
            promise.fail(new TooLarge());
            return promise.future();
        }
        Buffer body = Buffer.buffer((int) Math.max(256, Math.min(declaredLength, limit)));
        request.handler(chunk -> {
            if (promise.future().isComplete()) {
                return;
            }
            if ((long) body.length() + chunk.length() > limit) {
                promise.tryFail(new TooLarge());
                return;
            }
            body.appendBuffer(chunk);
        });
        request.exceptionHandler(promise::tryFail);
        request.endHandler(v -> promise.tryComplete(body));
        request.resume();
        return promise.future();
    }

    private static long parseLength(String header) {
        if (header == null) {
            return -1;
        }
        try {
            return Long.parseLong(header.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}

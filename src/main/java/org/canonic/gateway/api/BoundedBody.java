package org.canonic.gateway.api;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import org.canonic.gateway.memory.BodyBudget;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads a request body under three limits: its own size cap, the shared body budget (and its holder's share of it)
 * and a deadline. A declared length over the cap, or more than the budget or the share has left, is refused before a
 * byte is read; otherwise each chunk is
 * reserved in the budget as it arrives (never ahead of it: a client that announces 2 MiB and sends ten bytes holds ten
 * bytes) and kept as it came, joined without a copy at the end. A body still incomplete at the deadline fails, so a
 * client cannot hold a connection and its bytes by sending slowly or not at all.
 */
final class BoundedBody {

    /** The body is larger than the cap: 413. */
    static final class TooLarge extends RuntimeException {
        TooLarge() {
            super("request body too large", null, false, false);
        }
    }

    /** The body does not fit what the budget has left: 503, retry later. */
    static final class OverBudget extends RuntimeException {
        OverBudget() {
            super("request body over the body budget", null, false, false);
        }
    }

    /** The body did not arrive in time: 408. */
    static final class TimedOut extends RuntimeException {
        TimedOut() {
            super("request body timed out", null, false, false);
        }
    }

    private BoundedBody() {
    }

    /**
     * @param lease     where the body's bytes are reserved; its owner releases it when the request ends
     * @param timeoutMs how long the whole body may take to arrive, from now
     */
    static Future<Buffer> read(Vertx vertx, HttpServerRequest request, long limit, BodyBudget budget,
                               BodyBudget.Lease lease, long timeoutMs) {
        Promise<Buffer> promise = Promise.promise();
        long declaredLength = parseLength(request.getHeader(HttpHeaders.CONTENT_LENGTH));
        if (declaredLength > limit) {
            promise.fail(new TooLarge());
            return promise.future();
        }
        if (declaredLength > 0 && !lease.fits(declaredLength)) {
            promise.fail(new OverBudget());
            return promise.future();
        }
        List<ByteBuf> chunks = new ArrayList<>();
        long[] size = {0};
        long timer = vertx.setTimer(Math.max(1, timeoutMs), id -> promise.tryFail(new TimedOut()));
        promise.future().onComplete(done -> {
            vertx.cancelTimer(timer);
            if (done.failed()) {
                chunks.clear();
            }
        });
        request.handler(chunk -> {
            if (promise.future().isComplete()) {
                return;
            }
            if (size[0] + chunk.length() > limit) {
                promise.tryFail(new TooLarge());
                return;
            }
            if (!lease.tryGrow(chunk.length())) {
                promise.tryFail(new OverBudget());
                return;
            }
            chunks.add(chunk.getByteBuf());
            size[0] += chunk.length();
        });
        request.exceptionHandler(promise::tryFail);
        request.endHandler(v -> promise.tryComplete(join(chunks)));
        request.resume();
        return promise.future();
    }

    private static Buffer join(List<ByteBuf> chunks) {
        if (chunks.isEmpty()) {
            return Buffer.buffer();
        }
        return Buffer.buffer(chunks.size() == 1 ? chunks.get(0)
                : Unpooled.wrappedBuffer(chunks.size(), chunks.toArray(new ByteBuf[0])));
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

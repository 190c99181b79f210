package org.canonic.gateway.backend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import org.canonic.gateway.memory.BodyBudget;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Collects an upstream body (a non-stream answer or an error body) under its own cap and the shared body budget.
 * Chunks are kept as they arrived and joined without a copy at the end; each is reserved in the budget before it is
 * kept, so nothing is allocated ahead of the bytes and nothing is held that the budget did not grant.
 */
final class AnswerCollector {

    /** What adding a chunk came to. */
    enum Verdict { KEPT, TOO_LARGE, OVER_BUDGET }

    private final long limit;
    private final BodyBudget budget;
    private final BodyBudget.Lease lease;
    private final List<ByteBuf> chunks = new ArrayList<>();
    private long size;

    AnswerCollector(long limit, BodyBudget budget) {
        this.limit = limit;
        this.budget = budget;
        this.lease = budget.lease();
    }

    /**
     * Reads {@code resp} into this collector, on the attempt's context. An announced length over the cap or beyond
     * what the budget has left fails at once (no work wasted on an answer that cannot be kept); otherwise bytes are
     * reserved as they arrive.
     *
     * @param done       whether the attempt is over (a clock, a cancellation): nothing more is collected
     * @param progress   bytes arrived (the idle clock starts over)
     * @param failed     the body cannot be kept: the attempt fails with this outcome and detail
     * @param completed  the whole body arrived
     */
    void collect(HttpClientResponse resp, BooleanSupplier done, Runnable progress,
                 BiConsumer<AttemptOutcome, String> failed, Consumer<Buffer> completed) {
        long announced = announcedLength(resp);
        if (announced > limit) {
            failed.accept(AttemptOutcome.MALFORMED_RESPONSE, "announced a body of " + announced + " bytes, over the "
                    + limit + "-byte limit");
            return;
        }
        if (announced > 0 && !budget.fits(announced)) {
            overBudget(failed, announced);
            return;
        }
        resp.handler(chunk -> {
            if (done.getAsBoolean()) {
                return;
            }
            progress.run();
            switch (add(chunk)) {
                case TOO_LARGE -> failed.accept(AttemptOutcome.MALFORMED_RESPONSE, "sent a body larger than " + limit
                        + " bytes");
                case OVER_BUDGET -> overBudget(failed, size + chunk.length());
                default -> {
                }
            }
        });
        resp.endHandler(v -> {
            if (!done.getAsBoolean()) {
                completed.accept(body());
            }
        });
    }

    private void overBudget(BiConsumer<AttemptOutcome, String> failed, long bytes) {
        budget.refused(BodyBudget.Body.ANSWER);
        failed.accept(AttemptOutcome.OVER_BUDGET, "an answer of " + bytes + "+ bytes does not fit the gateway's "
                + "memory budget now (other bodies hold it)");
    }

    private static long announcedLength(HttpClientResponse resp) {
        String header = resp.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (header == null) {
            return -1;
        }
        try {
            return Long.parseLong(header.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    Verdict add(Buffer chunk) {
        if (size + chunk.length() > limit) {
            return Verdict.TOO_LARGE;
        }
        if (!lease.tryGrow(chunk.length())) {
            return Verdict.OVER_BUDGET;
        }
        chunks.add(chunk.getByteBuf());
        size += chunk.length();
        return Verdict.KEPT;
    }

    long size() {
        return size;
    }

    /** The whole body, one view over the chunks. */
    Buffer body() {
        if (chunks.size() == 1) {
            return Buffer.buffer(chunks.get(0));
        }
        return Buffer.buffer(Unpooled.wrappedBuffer(chunks.size(), chunks.toArray(new ByteBuf[0])));
    }

    /** The budget the body holds; whoever keeps the body longer than the attempt takes it over. */
    BodyBudget.Lease lease() {
        return lease;
    }

    /** Gives the bytes back (those not taken over) and forgets the chunks. */
    void release() {
        lease.release();
        chunks.clear();
    }
}

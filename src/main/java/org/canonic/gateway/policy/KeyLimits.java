package org.canonic.gateway.policy;

import org.canonic.gateway.config.GuardConfig;
import org.canonic.gateway.relay.OpenAiError;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Per client key: requests in flight, requests per minute and tokens per minute, so that one tenant cannot take the
 * gateway from the others. Minute limits are token buckets that refill continuously (a full minute's worth at most).
 * A request reserves its prompt plus {@code n} x its completion limit when it is admitted (the most it can cost) and
 * is settled with what it really used when it ends; a request refused for a limit gets 429 with {@code Retry-After}
 * (the time until it would pass) and an OpenAI {@code rate_limit_exceeded} error.
 */
public final class KeyLimits {

    /** One key's limits; 0 = unlimited. */
    record Limits(int concurrent, int requestsPerMinute, long tokensPerMinute) {
    }

    /** What an admitted request holds until it ends. */
    public interface Reservation {
        Reservation NONE = used -> {
        };

        /** Gives the request's concurrency back and refunds what it reserved beyond {@code usedTokens} (< 0: unknown). */
        void settle(long usedTokens);
    }

    private final GuardConfig.KeyLimits config;
    private final ConcurrentMap<String, KeyState> keys = new ConcurrentHashMap<>();

    public KeyLimits(GuardConfig.KeyLimits config) {
        this.config = config;
    }

    Limits limitsOf(String keyId) {
        GuardConfig.KeyLimit own = config.keys().get(keyId);
        if (own == null) {
            return new Limits(config.concurrent(), config.requestsPerMinute(), config.tokensPerMinute());
        }
        return new Limits(own.concurrent().orElse(config.concurrent()),
                own.requestsPerMinute().orElse(config.requestsPerMinute()),
                own.tokensPerMinute().orElse(config.tokensPerMinute()));
    }

    /** Admits a request costing at most {@code tokens} for {@code keyId}, or throws a 429 {@link Refusal}. */
    public Reservation admit(String keyId, long tokens) {
        Limits limits = limitsOf(keyId);
        if (limits.concurrent() <= 0 && limits.requestsPerMinute() <= 0 && limits.tokensPerMinute() <= 0) {
            return Reservation.NONE;
        }
        KeyState state = keys.computeIfAbsent(keyId, id -> new KeyState());
        return state.admit(keyId, limits, tokens);
    }

    private static final class KeyState {
        private int inFlight;
        private double requests = Double.NaN;
        private double tokens = Double.NaN;
        private long refilledNanos = System.nanoTime();

        synchronized Reservation admit(String keyId, Limits limits, long cost) {
            refill(limits);
            if (limits.concurrent() > 0 && inFlight >= limits.concurrent()) {
                throw limited(keyId, limits.concurrent() + " requests in flight", 1);
            }
            if (limits.requestsPerMinute() > 0 && requests < 1) {
                throw limited(keyId, limits.requestsPerMinute() + " requests per minute",
                        secondsUntil(1 - requests, limits.requestsPerMinute()));
            }
            if (limits.tokensPerMinute() > 0) {
                if (cost > limits.tokensPerMinute()) {
                    throw new Refusal(new OpenAiError(429, "This request may use up to " + cost + " tokens (prompt and"
                            + " n x max_tokens), more than key '" + keyId + "' may use in a minute ("
                            + limits.tokensPerMinute() + "). Lower max_tokens or n.", "rate_limit_exceeded",
                            "max_tokens", "rate_limit_exceeded"), 0);
                }
                if (tokens < cost) {
                    throw limited(keyId, limits.tokensPerMinute() + " tokens per minute",
                            secondsUntil(cost - tokens, limits.tokensPerMinute()));
                }
                tokens -= cost;
            }
            if (limits.requestsPerMinute() > 0) {
                requests -= 1;
            }
            inFlight++;
            AtomicBoolean settled = new AtomicBoolean();
            return used -> {
                if (settled.compareAndSet(false, true)) {
                    settle(limits, cost, used);
                }
            };
        }

        private synchronized void settle(Limits limits, long reserved, long used) {
            inFlight--;
            if (limits.tokensPerMinute() > 0 && used >= 0 && used < reserved) {
                refill(limits);
                tokens = Math.min(limits.tokensPerMinute(), tokens + (reserved - used));
            }
        }

        /** Buckets refill continuously, a minute's allowance per minute, never beyond one minute's worth. */
        private void refill(Limits limits) {
            long now = System.nanoTime();
            double minutes = (now - refilledNanos) / (double) TimeUnit.MINUTES.toNanos(1);
            refilledNanos = now;
            requests = Double.isNaN(requests) ? limits.requestsPerMinute()
                    : Math.min(limits.requestsPerMinute(), requests + minutes * limits.requestsPerMinute());
            tokens = Double.isNaN(tokens) ? limits.tokensPerMinute()
                    : Math.min(limits.tokensPerMinute(), tokens + minutes * limits.tokensPerMinute());
        }

        private static long secondsUntil(double missing, long perMinute) {
            return Math.max(1, (long) Math.ceil(missing * 60.0 / perMinute));
        }

        private static Refusal limited(String keyId, String limit, long retryAfterSeconds) {
            return new Refusal(new OpenAiError(429, "Key '" + keyId + "' is over its limit of " + limit
                    + ". Retry after " + retryAfterSeconds + " s.", "rate_limit_exceeded", null,
                    "rate_limit_exceeded"), retryAfterSeconds);
        }
    }
}

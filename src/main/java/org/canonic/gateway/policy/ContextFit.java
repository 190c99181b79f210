package org.canonic.gateway.policy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.backend.Tokenizer;
import org.canonic.gateway.relay.OpenAiError;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Fits a request to its candidates' context windows before any GPU time is spent: a candidate whose window cannot
 * hold the prompt is left out, one that holds the prompt but not prompt + limit gets a smaller limit, and when no
 * candidate is left the client gets {@code context_length_exceeded} at once.
 *
 * <p>The prompt is measured by {@link PromptSize}'s bounds first. Only when a window falls between the bounds (the
 * estimate cannot decide) is the backend's own {@code /tokenize} asked, once per model; if that fails, the upper
 * bound decides, so a failed count can only make the gateway more careful, never let an oversized prompt through.
 */
final class ContextFit {

    /** The fitted candidates in route order, and the prompt size the decision used. */
    record Plan(List<Candidate> candidates, int promptTokens, boolean promptExact) {
    }

    private final Tokenizer tokenizer;
    private final RequestJson json;
    private final int margin;
    private final int minCompletion;

    ContextFit(Tokenizer tokenizer, RequestJson json, int margin, int minCompletion) {
        this.tokenizer = tokenizer;
        this.json = json;
        this.margin = margin;
        this.minCompletion = minCompletion;
    }

    Future<Plan> plan(PolicyContext request, List<LiveBackend> backends) {
        if (backends.isEmpty()) {
            // The route waits for its first backend: nothing to fit; routing answers 503 with the reason.
            return Future.succeededFuture(new Plan(List.of(), 0, false));
        }
        PromptSize size = PromptSize.measure(request.body(), request.endpoint());
        Map<String, Future<Integer>> counts = new HashMap<>();
        for (LiveBackend backend : backends) {
            int room = backend.window() - margin;
            int limit = limitFor(backend, request.limit);
            boolean decidable = backend.window() <= 0 || size.exact() || size.upper() + limit <= room
                    || size.lower() + minCompletion > room;
            if (!decidable && tokenizer != null && backend.routable()) {
                counts.computeIfAbsent(backend.spec().model(), model -> tokenizer.count(backend.spec(),
                        backend.client(), tokenizeBody(request, backend)));
            }
        }
        List<Future<Integer>> pending = new ArrayList<>(counts.values());
        return Future.join(pending).transform(ignored -> Future.succeededFuture(decide(request, backends, size, counts)))
                .compose(plan -> plan.candidates().isEmpty()
                        ? Future.failedFuture(tooLong(request, backends, plan))
                        : Future.succeededFuture(plan));
    }

    private Plan decide(PolicyContext request, List<LiveBackend> backends, PromptSize size,
                        Map<String, Future<Integer>> counts) {
        List<Candidate> fitting = new ArrayList<>();
        int reported = size.upper();
        boolean exact = size.exact();
        for (LiveBackend backend : backends) {
            int window = backend.window();
            int limit = limitFor(backend, request.limit);
            if (window <= 0) {
                fitting.add(new Candidate(backend, limit));
                continue;
            }
            int room = window - margin;
            Future<Integer> count = counts.get(backend.spec().model());
            int prompt = size.upper();
            if (count != null && count.succeeded()) {
                prompt = count.result();
                reported = prompt;
                exact = true;
            }
            if (prompt + limit <= room) {
                fitting.add(new Candidate(backend, limit));
            } else if (prompt + minCompletion <= room) {
                fitting.add(new Candidate(backend, room - prompt));
            }
        }
        return new Plan(fitting, reported, exact);
    }

    private static int limitFor(LiveBackend backend, int limit) {
        int ceiling = backend.spec().tokensMax();
        return ceiling > 0 ? Math.min(limit, ceiling) : limit;
    }

    private Buffer tokenizeBody(PolicyContext request, LiveBackend backend) {
        ObjectNode body = json.mapper().createObjectNode();
        body.put("model", backend.spec().model());
        if (request.endpoint() == Endpoint.CHAT_COMPLETIONS) {
            body.set("messages", request.body().get("messages"));
            if (request.body().hasNonNull("tools")) {
                body.set("tools", request.body().get("tools"));
            }
            body.put("add_generation_prompt", true);
        } else {
            body.set("prompt", request.body().get("prompt"));
        }
        return Buffer.buffer(json.write(body));
    }

    private Refusal tooLong(PolicyContext request, List<LiveBackend> backends, Plan plan) {
        int largest = backends.stream().mapToInt(LiveBackend::window).max().orElse(0);
        return new Refusal(OpenAiError.invalidRequest(400, "The prompt is " + (plan.promptExact() ? "" : "about ")
                + plan.promptTokens() + " tokens" + (plan.promptExact() ? "" : " (estimated)") + ", which leaves no "
                + "room for a completion in any backend serving model '" + request.model + "'; the largest context "
                + "window is " + largest + " tokens. Shorten the conversation or the tool definitions.",
                "messages", "context_length_exceeded"));
    }
}

package bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A multi-turn agentic workload shaped like Kilo Code 7.x against an OpenAI-compatible endpoint, for
 * bench/routing.sh.
 *
 * <p>{@code --sessions} slots run at once. Each runs sessions one after another: a session starts with the shared
 * system prompt (about {@code --system-tokens} tokens, the 16 tool schemas counted in) and a task of its own, then
 * turns: one streaming {@code POST /chat/completions} each ({@code ignore_eos}, {@code max_tokens} drawn from
 * [out-min, out-max]), the streamed answer appended as the assistant message, a tool result of result-min to
 * result-max tokens appended as a user message, a pause of think-min to think-max ms. When the next prompt would not
 * fit in {@code --max-context} (estimated prompt + max_tokens), or a turn fails, the session ends and the slot starts
 * a new one (a new id, a new task). One token = 4 characters. Every random choice comes from the session's own
 * generator (seed and session ordinal; the k-th session of slot s has ordinal s + k * sessions), so every front is
 * sent the same prompts in the same order per slot, whatever the timing.
 *
 * <p>Turns start for {@code --duration} seconds; the turns then in flight finish (at most 120 s more: those still
 * running then count as errors of kind {@code grace}). TTFT is measured from sending a request to the first SSE event
 * whose delta has non-empty content. Errors by kind: {@code http_<status>}, {@code error_event} (an error in the
 * stream), {@code no_done} (a stream that ended without {@code data: [DONE]}), {@code no_content}, {@code timeout}
 * (300 s per request), {@code connect}, {@code io}, {@code grace}.
 *
 * <p>Writes the result as JSON to {@code --out} and one line {@code key=value ...} to stdout; {@code --trace FILE}
 * also writes one line per request. Exit code 0 unless the arguments are wrong (2) or the output cannot be written.
 */
public final class AgenticLoad {

    static final int CHARS_PER_TOKEN = 4;
    static final int TOKENS_PER_MESSAGE = 8; // a chat template's markers per block (ChatML: ~7), counted in the estimate
    static final long REQUEST_TIMEOUT_MS = 300_000;
    static final long GRACE_MS = 120_000;
    static final long START_SPREAD_MS = 2_000;

    // ---- settings ----------------------------------------------------------------------------------------------

    static final class Settings {
        String url;
        String model;
        int sessions = 24;
        int duration = 60;
        long seed = 42;
        int systemTokens = 8000;
        int resultMin = 300;
        int resultMax = 3000;
        int outMin = 64;
        int outMax = 256;
        int thinkMinMs = 1000;
        int thinkMaxMs = 3000;
        int maxContext = 32768;
        String key;
        String out;
        String trace;
    }

    static Settings parse(String[] args) {
        Settings s = new Settings();
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                usage("missing value after " + args[i]);
            }
            String v = args[i + 1];
            switch (args[i]) {
                case "--url" -> s.url = v.endsWith("/") ? v.substring(0, v.length() - 1) : v;
                case "--model" -> s.model = v;
                case "--sessions" -> s.sessions = number(args[i], v, 1, 1000);
                case "--duration" -> s.duration = number(args[i], v, 1, 3600);
                case "--seed" -> s.seed = number(args[i], v, 0, Integer.MAX_VALUE);
                case "--system-tokens" -> s.systemTokens = number(args[i], v, 3000, 1_000_000); // the tools alone need ~2.4k
                case "--result-min" -> s.resultMin = number(args[i], v, 1, 1_000_000);
                case "--result-max" -> s.resultMax = number(args[i], v, 1, 1_000_000);
                case "--out-min" -> s.outMin = number(args[i], v, 1, 1_000_000);
                case "--out-max" -> s.outMax = number(args[i], v, 1, 1_000_000);
                case "--think-min-ms" -> s.thinkMinMs = number(args[i], v, 0, 3_600_000);
                case "--think-max-ms" -> s.thinkMaxMs = number(args[i], v, 0, 3_600_000);
                case "--max-context" -> s.maxContext = number(args[i], v, 1024, 10_000_000);
                case "--key" -> s.key = v.isEmpty() ? null : v;
                case "--out" -> s.out = v;
                case "--trace" -> s.trace = v;
                default -> usage("unknown option " + args[i]);
            }
        }
        if (s.url == null || s.model == null || s.out == null) {
            usage("--url, --model and --out are required");
        }
        if (s.resultMin > s.resultMax || s.outMin > s.outMax || s.thinkMinMs > s.thinkMaxMs) {
            usage("each min must be at most its max");
        }
        if (s.systemTokens + Task.MAX_TOKENS + s.outMax + 4 * TOKENS_PER_MESSAGE > s.maxContext) {
            usage("the first turn (system " + s.systemTokens + " + task up to " + Task.MAX_TOKENS + " + out up to "
                    + s.outMax + " tokens) does not fit in --max-context " + s.maxContext);
        }
        return s;
    }

    static int number(String name, String value, int min, int max) {
        try {
            int n = Integer.parseInt(value);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        usage(name + " must be a whole number in " + min + ".." + max + ", got '" + value + "'");
        return 0;
    }

    static void usage(String problem) {
        System.err.println("AgenticLoad: " + problem);
        System.err.println("usage: java -cp bench-floor.jar bench.AgenticLoad --url http://127.0.0.1:P/v1 --model NAME"
                + " --out result.json [--sessions 24] [--duration 60] [--seed 42] [--system-tokens 8000]"
                + " [--result-min 300] [--result-max 3000] [--out-min 64] [--out-max 256] [--think-min-ms 1000]"
                + " [--think-max-ms 3000] [--max-context 32768] [--key KEY] [--trace FILE]");
        System.exit(2);
    }

    // ---- deterministic text ------------------------------------------------------------------------------------

    /** Prose and code-like text of an exact length, drawn from a generator. */
    static final class Text {
        static final String[] WORDS = ("the a an of to in for on with from by as is are be was were this that these it"
                + " its file files function method class module test tests build error errors value values request"
                + " response stream token tokens cache session sessions user users model models server client config"
                + " route routes backend backends replica replicas path line lines change changes diff patch edit read"
                + " write search list command output input result results task tasks step steps tool tools call calls"
                + " return returns handle handles check checks update updates create creates remove removes keep keeps"
                + " always never only when then before after first last next each every other same new old small large"
                + " should must may can will would could does not without because so if else while until also").split(" ");
        static final String[] IDENTS = ("request response handler router backend session cache token stream buffer"
                + " config client server replica prefix block queue limit window budget ledger metrics health probe"
                + " breaker attempt route model prompt result error value index count total start end").split(" ");
        static final String[] TYPES = {"String", "int", "long", "boolean", "List<String>", "Map<String, Integer>",
                "Optional<Route>", "Future<Void>", "Buffer", "Duration"};
        static final String[] EXT = {"java", "ts", "tsx", "py", "go", "rs", "md", "json", "yaml", "sh"};

        static String word(SplittableRandom r) {
            return WORDS[r.nextInt(WORDS.length)];
        }

        static String ident(SplittableRandom r) {
            String a = IDENTS[r.nextInt(IDENTS.length)];
            String b = IDENTS[r.nextInt(IDENTS.length)];
            return a + Character.toUpperCase(b.charAt(0)) + b.substring(1);
        }

        static String path(SplittableRandom r) {
            return "src/" + IDENTS[r.nextInt(IDENTS.length)] + "/" + ident(r) + "." + EXT[r.nextInt(EXT.length)];
        }

        static void sentence(StringBuilder sb, SplittableRandom r) {
            int n = 8 + r.nextInt(14);
            for (int i = 0; i < n; i++) {
                String w = i == 3 && r.nextInt(4) == 0 ? "`" + ident(r) + "`" : word(r);
                if (i == 0) {
                    w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
                }
                sb.append(w).append(i + 1 < n ? " " : ". ");
            }
        }

        static void paragraph(StringBuilder sb, SplittableRandom r) {
            int n = 2 + r.nextInt(5);
            for (int i = 0; i < n; i++) {
                sentence(sb, r);
            }
            sb.append("\n\n");
        }

        static void code(StringBuilder sb, SplittableRandom r) {
            String name = ident(r);
            sb.append("    public ").append(TYPES[r.nextInt(TYPES.length)]).append(' ').append(name).append('(')
                    .append(TYPES[r.nextInt(TYPES.length)]).append(' ').append(ident(r)).append(") {\n");
            int lines = 3 + r.nextInt(8);
            for (int i = 0; i < lines; i++) {
                switch (r.nextInt(4)) {
                    case 0 -> sb.append("        if (").append(ident(r)).append(" == null) {\n            return ")
                            .append(ident(r)).append(";\n        }\n");
                    case 1 -> sb.append("        var ").append(ident(r)).append(" = ").append(ident(r)).append('.')
                            .append(ident(r)).append('(').append(r.nextInt(1000)).append(");\n");
                    case 2 -> sb.append("        // ").append(word(r)).append(' ').append(word(r)).append(' ')
                            .append(word(r)).append(' ').append(ident(r)).append('\n');
                    default -> sb.append("        ").append(ident(r)).append(".add(\"").append(word(r)).append("\", ")
                            .append(ident(r)).append(");\n");
                }
            }
            sb.append("    }\n\n");
        }

        /** Mixed prose and code, cut to exactly {@code chars} characters. */
        static String mixed(SplittableRandom r, int chars, int codeShare) {
            StringBuilder sb = new StringBuilder(chars + 600);
            while (sb.length() < chars) {
                if (r.nextInt(100) < codeShare) {
                    code(sb, r);
                } else {
                    paragraph(sb, r);
                }
            }
            sb.setLength(chars);
            return sb.toString();
        }

        static String prose(SplittableRandom r, int chars) {
            StringBuilder sb = new StringBuilder(chars + 200);
            while (sb.length() < chars) {
                sentence(sb, r);
            }
            sb.setLength(chars);
            return sb.toString().trim();
        }
    }

    // ---- the shared prefix: system prompt and tools ------------------------------------------------------------

    static final String[][] TOOLS = {
            {"bash", "Executes a shell command in the workspace and returns its output.", "command", "timeout", "description"},
            {"read", "Reads a file from the local filesystem, optionally a range of lines.", "filePath", "offset", "limit"},
            {"write", "Writes a file to the local filesystem, replacing it when it exists.", "filePath", "content", null},
            {"edit", "Performs an exact string replacement in a file.", "filePath", "oldString", "newString"},
            {"multiedit", "Performs several replacements in one file in one operation.", "filePath", "edits", null},
            {"patch", "Applies a unified diff patch to files in the workspace.", "patchText", null, null},
            {"glob", "Finds files by name pattern, sorted by modification time.", "pattern", "path", null},
            {"grep", "Searches file contents with a regular expression.", "pattern", "path", "include"},
            {"list", "Lists files and directories under a path.", "path", "ignore", null},
            {"task", "Starts a sub-agent to handle a complex, multi-step task on its own.", "description", "prompt", "subagent_type"},
            {"todowrite", "Creates and manages a structured task list for the current session.", "todos", null, null},
            {"todoread", "Reads the current session's task list.", null, null, null},
            {"webfetch", "Fetches content from a URL and returns it as text, markdown or html.", "url", "format", "timeout"},
            {"websearch", "Searches the web and returns the most relevant results.", "query", "numResults", null},
            {"question", "Asks the user a question when the task cannot be completed without an answer.", "question", "options", null},
            {"skill", "Loads a named skill with instructions for a specialised task.", "name", null, null},
    };

    /** The tools array and the system prompt every session shares, and the tools' size in tokens. */
    record Shared(JsonArray tools, String system, int toolsChars) {

        static Shared build(long seed, int systemTokens) {
            SplittableRandom r = new SplittableRandom(mix(seed, -1));
            int budget = systemTokens * CHARS_PER_TOKEN;
            int perTool = Math.max(80, budget * 35 / 100 / TOOLS.length - 500); // the tools: ~3k of 8k tokens
            JsonArray tools = new JsonArray();
            for (String[] t : TOOLS) {
                JsonObject props = new JsonObject();
                JsonArray required = new JsonArray();
                for (int p = 2; p < 5; p++) {
                    if (t[p] != null) {
                        props.put(t[p], new JsonObject().put("type", "string")
                                .put("description", Text.prose(r, 40 + r.nextInt(80))));
                        if (p == 2) {
                            required.add(t[p]);
                        }
                    }
                }
                tools.add(new JsonObject().put("type", "function").put("function", new JsonObject()
                        .put("name", t[0])
                        .put("description", t[1] + " " + Text.prose(r, perTool))
                        .put("parameters", new JsonObject().put("type", "object").put("properties", props)
                                .put("required", required).put("additionalProperties", false)
                                .put("$schema", "http://json-schema.org/draft-07/schema#"))));
            }
            int toolsChars = tools.encode().length();
            String head = "You are Kilo Code, a highly skilled software engineer with extensive knowledge in many"
                    + " programming languages, frameworks, design patterns, and best practices.\n\n";
            String system = head + Text.mixed(r, Math.max(200, budget - toolsChars - head.length()), 40);
            return new Shared(tools, system, toolsChars);
        }
    }

    // ---- sessions ----------------------------------------------------------------------------------------------

    /** A session's first user message: a task and environment details, 100-300 tokens. */
    static final class Task {
        static final int MIN_TOKENS = 100;
        static final int MAX_TOKENS = 300;

        static JsonArray build(SplittableRandom r) {
            int chars = (MIN_TOKENS + r.nextInt(MAX_TOKENS - MIN_TOKENS + 1)) * CHARS_PER_TOKEN;
            String env = "<environment_details>\nCurrent time: 2026-12-0" + (1 + r.nextInt(9)) + "T1" + r.nextInt(10)
                    + ":" + (10 + r.nextInt(50)) + ":00Z\nCurrent mode: code\nOpen file: " + Text.path(r)
                    + "\n</environment_details>";
            String task = "<task>\nIn " + Text.path(r) + ": " + Text.prose(r, Math.max(40, chars - env.length() - 40))
                    + "\n</task>";
            return new JsonArray().add(part(task)).add(part(env));
        }
    }

    static JsonObject part(String text) {
        return new JsonObject().put("type", "text").put("text", text);
    }

    static long mix(long seed, long ordinal) {
        long z = seed * 0x9E3779B97F4A7C15L + ordinal * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static String sessionId(SplittableRandom r) {
        String alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        StringBuilder sb = new StringBuilder("ses_");
        for (int i = 0; i < 26; i++) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    // ---- one request -------------------------------------------------------------------------------------------

    /** What one turn gave: TTFT and end-to-end in ms, tokens, the assistant's text, or the error kind. */
    static final class Outcome {
        double ttftMs = -1;
        double e2eMs;
        long outputTokens;
        long promptTokens;
        boolean usage;
        final StringBuilder content = new StringBuilder();
        String error;
        String detail = "";
        long startNanos;
        long endNanos;
    }

    /** A request in flight, so the grace deadline can count it. */
    static final Map<Long, Integer> IN_FLIGHT = new ConcurrentHashMap<>();

    final Settings settings;
    final Shared shared;
    final HttpClient client;
    final ScheduledExecutorService watchdog;
    final long t0;
    final long stopAt;
    final PrintWriter trace;
    final List<Outcome> outcomes = new ArrayList<>();
    int sessionsStarted;

    AgenticLoad(Settings settings) throws IOException {
        this.settings = settings;
        this.shared = Shared.build(settings.seed, settings.systemTokens);
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "watchdog");
            t.setDaemon(true);
            return t;
        });
        this.trace = settings.trace == null ? null
                : new PrintWriter(Files.newBufferedWriter(Path.of(settings.trace), StandardCharsets.UTF_8), true);
        if (trace != null) {
            trace.println("# slot session ordinal turn start_ms ttft_ms e2e_ms prompt_tokens output_tokens max_tokens"
                    + " estimated_prompt_tokens error");
        }
        this.t0 = System.nanoTime();
        this.stopAt = t0 + TimeUnit.SECONDS.toNanos(settings.duration);
    }

    Outcome send(String sessionId, String body) {
        Outcome o = new Outcome();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(settings.url + "/chat/completions"))
                .timeout(Duration.ofMillis(REQUEST_TIMEOUT_MS))
                .header("content-type", "application/json")
                .header("accept", "text/event-stream")
                .header("x-session-id", sessionId)
                .header("x-session-affinity", sessionId)
                .header("x-title", "Kilo Code")
                .header("http-referer", "https://kilocode.ai")
                .header("user-agent", "Kilo-Code/7.7.7 ai-sdk/openai-compatible")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (settings.key != null) {
            b.header("authorization", "Bearer " + settings.key);
        }
        o.startNanos = System.nanoTime();
        InputStream[] stream = new InputStream[1];
        boolean[] timedOut = new boolean[1];
        ScheduledFuture<?> dog = watchdog.schedule(() -> {
            synchronized (stream) {
                timedOut[0] = true;
                if (stream[0] != null) {
                    try {
                        stream[0].close();
                    } catch (IOException ignored) {
                        // closing is all we want
                    }
                }
            }
        }, REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        try {
            HttpResponse<InputStream> response = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            synchronized (stream) {
                stream[0] = response.body();
                if (timedOut[0]) {
                    stream[0].close();
                }
            }
            try (InputStream in = response.body()) {
                if (response.statusCode() != 200) {
                    o.error = "http_" + response.statusCode();
                    o.detail = new String(in.readNBytes(300), StandardCharsets.UTF_8);
                } else {
                    readStream(in, o);
                }
            }
        } catch (HttpConnectTimeoutException | ConnectException e) {
            o.error = "connect";
            o.detail = String.valueOf(e.getMessage());
        } catch (HttpTimeoutException e) {
            o.error = "timeout";
        } catch (IOException e) {
            o.error = timedOut[0] ? "timeout" : "io";
            o.detail = String.valueOf(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            o.error = "io";
        } finally {
            dog.cancel(false);
        }
        o.endNanos = System.nanoTime();
        o.e2eMs = (o.endNanos - o.startNanos) / 1e6;
        return o;
    }

    static void readStream(InputStream in, Outcome o) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 16384);
        String line;
        boolean done = false;
        while ((line = reader.readLine()) != null) {
            if (!line.startsWith("data:")) {
                continue; // blank separators, SSE comments (": keep-alive"), event names
            }
            String data = line.substring(5).trim();
            if (data.equals("[DONE]")) {
                done = true;
                break;
            }
            JsonObject event;
            try {
                event = new JsonObject(data);
            } catch (RuntimeException e) {
                o.error = "error_event";
                o.detail = "unparsable event: " + data.substring(0, Math.min(200, data.length()));
                return;
            }
            if (event.containsKey("error")) {
                o.error = "error_event";
                o.detail = data.substring(0, Math.min(300, data.length()));
                return;
            }
            JsonArray choices = event.getJsonArray("choices");
            if (choices != null && !choices.isEmpty()) {
                JsonObject delta = choices.getJsonObject(0).getJsonObject("delta");
                String content = delta == null ? null : delta.getString("content");
                if (content != null && !content.isEmpty()) {
                    if (o.ttftMs < 0) {
                        o.ttftMs = (System.nanoTime() - o.startNanos) / 1e6;
                    }
                    o.content.append(content);
                }
            }
            JsonObject usage = event.getJsonObject("usage");
            if (usage != null) {
                o.usage = true;
                o.outputTokens = usage.getLong("completion_tokens", 0L);
                o.promptTokens = usage.getLong("prompt_tokens", 0L);
            }
        }
        if (!done) {
            o.error = "no_done";
        } else if (o.ttftMs < 0) {
            o.error = "no_content";
        }
    }

    // ---- a slot: sessions one after another ----------------------------------------------------------------------

    void slot(int slot) throws InterruptedException {
        for (int k = 0; ; k++) {
            long ordinal = slot + (long) k * settings.sessions;
            SplittableRandom r = new SplittableRandom(mix(settings.seed, ordinal));
            long offsetMs = r.nextLong(START_SPREAD_MS); // drawn by every session, used by the first of each slot
            if (k == 0 && !sleepUntil(t0 + TimeUnit.MILLISECONDS.toNanos(offsetMs))) {
                return;
            }
            if (!runSession(slot, ordinal, r)) {
                return;
            }
        }
    }

    /** Runs one session; false once the duration is over. */
    boolean runSession(int slot, long ordinal, SplittableRandom r) throws InterruptedException {
        String id = sessionId(r);
        JsonArray messages = new JsonArray()
                .add(new JsonObject().put("role", "system").put("content", shared.system))
                .add(new JsonObject().put("role", "user").put("content", Task.build(r)));
        long promptChars = shared.toolsChars + shared.system.length() + contentChars(messages.getJsonObject(1));
        boolean counted = false;
        for (int turn = 1; ; turn++) {
            int maxTokens = settings.outMin + r.nextInt(settings.outMax - settings.outMin + 1);
            // The chat template's markers: one block per message, one for the tools, the generation prompt.
            long estimate = promptChars / CHARS_PER_TOKEN + (long) TOKENS_PER_MESSAGE * (messages.size() + 2);
            if (estimate + maxTokens > settings.maxContext) {
                return true; // the next prompt would not fit: a new session (a new task)
            }
            if (System.nanoTime() >= stopAt) {
                return false;
            }
            if (!counted) {
                counted = true;
                synchronized (this) {
                    sessionsStarted++;
                }
            }
            JsonObject body = new JsonObject()
                    .put("model", settings.model)
                    .put("messages", messages)
                    .put("tools", shared.tools)
                    .put("tool_choice", "auto")
                    .put("max_tokens", maxTokens)
                    .put("stream", true)
                    .put("stream_options", new JsonObject().put("include_usage", true))
                    .put("ignore_eos", true);
            long key = Thread.currentThread().getId();
            IN_FLIGHT.put(key, 1);
            Outcome o = send(id, body.encode());
            IN_FLIGHT.remove(key);
            synchronized (this) {
                outcomes.add(o);
                if (trace != null) {
                    trace.printf(Locale.ROOT, "%d %s %d %d %.1f %.1f %.1f %d %d %d %d %s%n", slot, id, ordinal, turn,
                            (o.startNanos - t0) / 1e6, o.ttftMs, o.e2eMs, o.promptTokens, o.outputTokens, maxTokens,
                            estimate, o.error == null ? "-" : o.error + " " + o.detail.replace('\n', ' '));
                }
            }
            if (o.error != null) {
                // A failed turn ends the session; the slot starts a new one after the shortest think time.
                return sleepUntil(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.thinkMinMs));
            }
            JsonObject assistant = new JsonObject().put("role", "assistant").put("content", o.content.toString());
            int resultChars = (settings.resultMin + r.nextInt(settings.resultMax - settings.resultMin + 1))
                    * CHARS_PER_TOKEN;
            String result = toolResult(r, resultChars);
            JsonObject toolResult = new JsonObject().put("role", "user").put("content", new JsonArray().add(part(result)));
            messages.add(assistant).add(toolResult);
            promptChars += o.content.length() + result.length();
            long think = settings.thinkMinMs + r.nextLong(settings.thinkMaxMs - settings.thinkMinMs + 1L);
            if (!sleepUntil(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(think))) {
                return false;
            }
        }
    }

    /** A tool's output as Kilo sends it back: a header naming the tool, then file contents or command output. */
    static String toolResult(SplittableRandom r, int chars) {
        String[] kinds = {"read", "bash", "grep", "edit"};
        String kind = kinds[r.nextInt(kinds.length)];
        String head = "[" + kind + " for '" + Text.path(r) + "'] Result:\n";
        return head + Text.mixed(r, Math.max(16, chars - head.length()), kind.equals("bash") ? 20 : 70);
    }

    static long contentChars(JsonObject message) {
        Object content = message.getValue("content");
        if (content instanceof String s) {
            return s.length();
        }
        long n = 0;
        for (Object p : (JsonArray) content) {
            n += ((JsonObject) p).getString("text", "").length();
        }
        return n;
    }

    /** Sleeps until {@code deadline}, but not past the end of the run; false when the run's duration is over. */
    boolean sleepUntil(long deadline) throws InterruptedException {
        long until = Math.min(deadline, stopAt);
        long left;
        while ((left = until - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
        return System.nanoTime() < stopAt;
    }

    // ---- the run and its summary -------------------------------------------------------------------------------

    JsonObject run() throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        for (int s = 0; s < settings.sessions; s++) {
            int slot = s;
            Thread t = new Thread(() -> {
                try {
                    slot(slot);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "slot-" + s);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        long graceEnd = stopAt + TimeUnit.MILLISECONDS.toNanos(GRACE_MS);
        for (Thread t : threads) {
            long left = graceEnd - System.nanoTime();
            if (left > 0) {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
        int cut = IN_FLIGHT.size();
        synchronized (this) {
            return summary(cut);
        }
    }

    JsonObject summary(int cutAtGrace) {
        Map<String, Integer> kinds = new TreeMap<>();
        List<Double> ttft = new ArrayList<>();
        List<Double> e2e = new ArrayList<>();
        long output = 0;
        long prompt = 0;
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        int noUsage = 0;
        for (Outcome o : outcomes) {
            first = Math.min(first, o.startNanos);
            last = Math.max(last, o.endNanos);
            if (o.error != null) {
                kinds.merge(o.error, 1, Integer::sum);
                continue;
            }
            ttft.add(o.ttftMs);
            e2e.add(o.e2eMs);
            if (o.usage) {
                output += o.outputTokens;
                prompt += o.promptTokens;
            } else {
                noUsage++;
            }
        }
        if (cutAtGrace > 0) {
            kinds.merge("grace", cutAtGrace, Integer::sum);
            last = Math.max(last, System.nanoTime());
        }
        int errors = kinds.values().stream().mapToInt(Integer::intValue).sum();
        int requests = outcomes.size() + cutAtGrace;
        double wall = first == Long.MAX_VALUE ? 0 : (last - first) / 1e9;
        double[] t = ttft.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double[] e = e2e.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        JsonObject errorsByKind = new JsonObject();
        kinds.forEach(errorsByKind::put);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("requests", requests);
        out.put("errors", errors);
        out.put("errors_by_kind", errorsByKind);
        out.put("ttft_ms", new JsonObject().put("p50", round(pct(t, 50))).put("p90", round(pct(t, 90)))
                .put("p99", round(pct(t, 99))).put("mean", round(Arrays.stream(t).average().orElse(0))));
        out.put("e2e_ms", new JsonObject().put("p50", round(pct(e, 50))).put("p99", round(pct(e, 99))));
        out.put("output_tokens", output);
        out.put("output_tokens_per_s", round(wall > 0 ? output / wall : 0));
        out.put("prompt_tokens", prompt);
        out.put("sessions", sessionsStarted);
        out.put("turns_per_session_mean", round(sessionsStarted > 0 ? (double) requests / sessionsStarted : 0));
        out.put("duration_s", round(wall));
        out.put("answers_without_usage", noUsage);
        out.put("shared_prefix_tokens", (shared.system.length() + shared.toolsChars) / CHARS_PER_TOKEN);
        out.put("tools_tokens", shared.toolsChars / CHARS_PER_TOKEN);
        return new JsonObject(out);
    }

    static double pct(double[] sorted, int p) {
        if (sorted.length == 0) {
            return 0;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    public static void main(String[] args) throws Exception {
        Settings settings = parse(args);
        AgenticLoad load = new AgenticLoad(settings);
        JsonObject result = load.run();
        Files.writeString(Path.of(settings.out), result.encodePrettily() + "\n", StandardCharsets.UTF_8);
        if (load.trace != null) {
            load.trace.close();
        }
        JsonObject ttft = result.getJsonObject("ttft_ms");
        JsonObject e2e = result.getJsonObject("e2e_ms");
        StringBuilder kinds = new StringBuilder();
        result.getJsonObject("errors_by_kind").forEach(k -> kinds.append(kinds.length() > 0 ? "," : "")
                .append(k.getKey()).append(':').append(k.getValue()));
        System.out.printf(Locale.ROOT, "requests=%d errors=%d ttft_p50_ms=%s ttft_p90_ms=%s ttft_p99_ms=%s ttft_mean_ms=%s"
                        + " e2e_p50_ms=%s e2e_p99_ms=%s output_tokens=%d output_tokens_per_s=%s prompt_tokens=%d sessions=%d"
                        + " turns_per_session_mean=%s duration_s=%s errors_by_kind=%s%n",
                result.getInteger("requests"), result.getInteger("errors"), ttft.getValue("p50"), ttft.getValue("p90"),
                ttft.getValue("p99"), ttft.getValue("mean"), e2e.getValue("p50"), e2e.getValue("p99"),
                result.getLong("output_tokens"), result.getValue("output_tokens_per_s"), result.getLong("prompt_tokens"),
                result.getInteger("sessions"), result.getValue("turns_per_session_mean"), result.getValue("duration_s"),
                kinds.length() > 0 ? kinds : "-");
        System.exit(0);
    }
}

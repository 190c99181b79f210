// A fake vLLM server for bench/soak.sh whose behaviour can be flipped at run time. JDK 17, one file, JDK classes only:
//
//   java bench/soak/FakeVllm.java --port 18001 --control-port 19001 --model soak-model [--token-interval-ms 10]
//
// It speaks vLLM's OpenAI wire format on --port (GET /health, GET /v1/models, POST /v1/chat/completions and
// /v1/completions, stream and non-stream, usage chunk, data: [DONE]) over plain sockets, with keep-alive, writing and
// flushing every SSE event as its own chunk as vLLM does. The control port (127.0.0.1 only) takes
//   GET /mode?set=<mode>   healthy | hang | error503 | drop | stall | health-fail | refuse
//   GET /mode              the current mode
//   GET /stats             counters as key=value lines (requests by mode, completions in flight, open connections)
// Modes (read when a request starts, so a flip never changes a request already running):
//   healthy      answers everything normally
//   hang         completions get no answer at all; the connection is held until the client closes it
//   error503     completions get 503 with a vLLM-style error body; health stays 200
//   drop         streams end after a few events by closing the socket (no final chunk, no [DONE]); non-stream
//                requests are read and the socket closed without an answer
//   stall        streams send a few events then go silent; non-stream answers send half a body then go silent
//   health-fail  /health and /v1/models answer 503; completions still work
//   refuse       the listening socket is closed and every open connection with it (a dead process): connection refused
// Probe answers (/health, /v1/models) carry Connection: close so that, after a soak, every connection still open to
// this port is a completion connection the gateway kept.
import com.sun.net.httpserver.HttpServer;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class FakeVllm {

    static final Set<String> MODES = Set.of("healthy", "hang", "error503", "drop", "stall", "health-fail", "refuse");

    final int port;
    final String model;
    final long tokenIntervalMs;
    volatile String mode = "healthy";
    final Map<String, AtomicLong> counters = new ConcurrentHashMap<>();
    final AtomicInteger completionsInFlight = new AtomicInteger();
    final Set<Socket> open = ConcurrentHashMap.newKeySet();
    final Set<Socket> completionSockets = ConcurrentHashMap.newKeySet();
    final AtomicLong ids = new AtomicLong();
    final ExecutorService workers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fake-vllm-conn");
        t.setDaemon(true);
        return t;
    });

    FakeVllm(int port, String model, long tokenIntervalMs) {
        this.port = port;
        this.model = model;
        this.tokenIntervalMs = tokenIntervalMs;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new TreeMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        FakeVllm fake = new FakeVllm(Integer.parseInt(options.get("port")),
                options.getOrDefault("model", "soak-model"),
                Long.parseLong(options.getOrDefault("token-interval-ms", "10")));
        fake.startControl(Integer.parseInt(options.get("control-port")));
        fake.serve();
    }

    void count(String name) {
        counters.computeIfAbsent(name, k -> new AtomicLong()).incrementAndGet();
    }

    // ---- control ----------------------------------------------------------------------------------------------------

    void startControl(int controlPort) throws IOException {
        HttpServer control = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), controlPort), 16);
        control.createContext("/mode", exchange -> {
            String query = exchange.getRequestURI().getQuery();
            String answer;
            int status = 200;
            if (query != null && query.startsWith("set=")) {
                String next = query.substring(4);
                if (MODES.contains(next)) {
                    String previous = mode;
                    mode = next;
                    count("flips." + next);
                    if (next.equals("refuse") && !previous.equals("refuse")) {
                        closeAll();
                    }
                    answer = previous + " -> " + next + "\n";
                } else {
                    status = 400;
                    answer = "unknown mode " + next + "; one of " + MODES + "\n";
                }
            } else {
                answer = mode + "\n";
            }
            byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        control.createContext("/stats", exchange -> {
            StringBuilder out = new StringBuilder();
            out.append("mode=").append(mode).append('\n');
            out.append("completions_in_flight=").append(completionsInFlight.get()).append('\n');
            out.append("open_connections=").append(open.size()).append('\n');
            out.append("open_completion_connections=").append(completionSockets.size()).append('\n');
            new TreeMap<>(counters).forEach((k, v) -> out.append(k).append('=').append(v.get()).append('\n'));
            byte[] bytes = out.toString().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        control.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fake-vllm-control");
            t.setDaemon(true);
            return t;
        }));
        control.start();
    }

    void closeAll() {
        for (Socket socket : open) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    // ---- serving ------------------------------------------------------------------------------------------------------

    void serve() throws Exception {
        ServerSocket server = null;
        while (true) {
            if (mode.equals("refuse")) {
                if (server != null) {
                    server.close();
                    server = null;
                }
                Thread.sleep(50);
                continue;
            }
            if (server == null) {
                server = new ServerSocket();
                server.setReuseAddress(true);
                server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 512);
                server.setSoTimeout(200);
            }
            Socket socket;
            try {
                socket = server.accept();
            } catch (SocketTimeoutException e) {
                continue;
            } catch (IOException e) {
                if (mode.equals("refuse")) {
                    continue;
                }
                throw e;
            }
            socket.setTcpNoDelay(true);
            open.add(socket);
            count("connections");
            workers.execute(() -> connection(socket));
        }
    }

    void connection(Socket socket) {
        try (socket) {
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            while (true) {
                String requestLine = readLine(in);
                if (requestLine == null || requestLine.isEmpty()) {
                    return;
                }
                String[] parts = requestLine.split(" ");
                if (parts.length < 3) {
                    return;
                }
                Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
                String line;
                while ((line = readLine(in)) != null && !line.isEmpty()) {
                    int colon = line.indexOf(':');
                    if (colon > 0) {
                        headers.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
                    }
                }
                if (line == null) {
                    return;
                }
                byte[] body = readBody(in, headers);
                String path = parts[1].contains("?") ? parts[1].substring(0, parts[1].indexOf('?')) : parts[1];
                boolean keepOpen = handle(socket, in, out, parts[0], path, body);
                if (!keepOpen || "close".equalsIgnoreCase(headers.get("Connection"))) {
                    return;
                }
            }
        } catch (IOException e) {
            // the peer went away, or the socket was closed by a flip to refuse
        } finally {
            open.remove(socket);
            completionSockets.remove(socket);
        }
    }

    /** Answers one request; false closes the connection. */
    boolean handle(Socket socket, InputStream in, OutputStream out, String method, String path, byte[] body)
            throws IOException {
        String current = mode;
        if (method.equals("GET") && path.equals("/health")) {
            count("health." + current);
            if (current.equals("health-fail")) {
                respond(out, 503, "application/json", "{\"error\":\"unhealthy (soak)\"}", true);
            } else {
                respond(out, 200, "application/json", "", true);
            }
            return false;
        }
        if (method.equals("GET") && path.equals("/v1/models")) {
            count("models." + current);
            if (current.equals("health-fail")) {
                respond(out, 503, "application/json", "{\"error\":\"unhealthy (soak)\"}", true);
            } else {
                respond(out, 200, "application/json", "{\"object\":\"list\",\"data\":[{\"id\":\"" + model
                        + "\",\"object\":\"model\",\"created\":0,\"owned_by\":\"vllm\",\"root\":\"" + model
                        + "\",\"max_model_len\":32768}]}", true);
            }
            return false;
        }
        boolean chat = path.equals("/v1/chat/completions");
        if (!method.equals("POST") || !(chat || path.equals("/v1/completions"))) {
            count("not_found");
            respond(out, 404, "application/json", "{\"object\":\"error\",\"message\":\"Not Found\",\"type\":\"NotFoundError\",\"code\":404}", false);
            return true;
        }
        String request = new String(body, StandardCharsets.UTF_8);
        boolean stream = Pattern.compile("\"stream\"\\s*:\\s*true").matcher(request).find();
        int maxTokens = intField(request, "max_tokens", 16);
        count("completions." + current + (stream ? ".stream" : ".json"));
        completionSockets.add(socket);
        completionsInFlight.incrementAndGet();
        try {
            switch (current) {
                case "hang" -> {
                    holdUntilClosed(in);
                    return false;
                }
                case "error503" -> {
                    respond(out, 503, "application/json", "{\"object\":\"error\",\"message\":\"The engine is"
                            + " overloaded (soak)\",\"type\":\"ServiceUnavailableError\",\"param\":null,\"code\":503}", false);
                    return true;
                }
                case "drop" -> {
                    if (stream) {
                        streamEvents(out, chat, maxTokens, 2 + (int) (ids.get() % 3));
                    }
                    return false; // close: no final chunk, no answer
                }
                case "stall" -> {
                    if (stream) {
                        streamEvents(out, chat, maxTokens, 2);
                    } else {
                        byte[] answer = completion(chat, maxTokens).getBytes(StandardCharsets.UTF_8);
                        out.write(("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                                + answer.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                        out.write(answer, 0, answer.length / 2);
                        out.flush();
                    }
                    holdUntilClosed(in);
                    return false;
                }
                default -> {
                    if (stream) {
                        streamEvents(out, chat, maxTokens, Integer.MAX_VALUE);
                    } else {
                        sleep(tokenIntervalMs * Math.min(maxTokens, 16) / 4);
                        respond(out, 200, "application/json", completion(chat, maxTokens), false);
                    }
                    return true;
                }
            }
        } finally {
            completionsInFlight.decrementAndGet();
        }
    }

    /** A vLLM stream; after {@code limit} events it stops (the caller then drops or stalls). */
    void streamEvents(OutputStream out, boolean chat, int maxTokens, int limit) throws IOException {
        out.write(("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\n"
                + "transfer-encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String id = (chat ? "chatcmpl-soak-" : "cmpl-soak-") + ids.incrementAndGet();
        long created = System.currentTimeMillis() / 1000;
        String object = chat ? "chat.completion.chunk" : "text_completion";
        String head = "{\"id\":\"" + id + "\",\"object\":\"" + object + "\",\"created\":" + created + ",\"model\":\""
                + model + "\",\"choices\":";
        int tokens = Math.max(1, Math.min(maxTokens, 16));
        int sent = 0;
        if (chat) {
            event(out, head + "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,"
                    + "\"finish_reason\":null}]}");
            sent++;
        }
        for (int i = 0; i < tokens; i++) {
            if (sent >= limit) {
                return;
            }
            sleep(tokenIntervalMs);
            String piece = "tok" + i + " ";
            event(out, head + (chat
                    ? "[{\"index\":0,\"delta\":{\"content\":\"" + piece + "\"},\"logprobs\":null,\"finish_reason\":null}]}"
                    : "[{\"index\":0,\"text\":\"" + piece + "\",\"logprobs\":null,\"finish_reason\":null}]}"));
            sent++;
        }
        if (sent >= limit) {
            return;
        }
        String finish = tokens >= maxTokens ? "length" : "stop";
        event(out, head + (chat
                ? "[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"" + finish + "\"}]}"
                : "[{\"index\":0,\"text\":\"\",\"logprobs\":null,\"finish_reason\":\"" + finish + "\"}]}"));
        event(out, head + "[],\"usage\":{\"prompt_tokens\":12,\"total_tokens\":" + (12 + tokens)
                + ",\"completion_tokens\":" + tokens + "}}");
        event(out, "[DONE]");
        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** One SSE event, one chunk, one write, flushed. */
    static void event(OutputStream out, String data) throws IOException {
        byte[] payload = ("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream chunk = new ByteArrayOutputStream(payload.length + 16);
        chunk.write((Integer.toHexString(payload.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        chunk.write(payload);
        chunk.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        out.write(chunk.toByteArray());
        out.flush();
    }

    String completion(boolean chat, int maxTokens) {
        int tokens = Math.max(1, Math.min(maxTokens, 16));
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < tokens; i++) {
            text.append("tok").append(i).append(' ');
        }
        String finish = tokens >= maxTokens ? "length" : "stop";
        long created = System.currentTimeMillis() / 1000;
        String choices = chat
                ? "[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + text + "\"},\"logprobs\":null,"
                + "\"finish_reason\":\"" + finish + "\"}]"
                : "[{\"index\":0,\"text\":\"" + text + "\",\"logprobs\":null,\"finish_reason\":\"" + finish + "\"}]";
        return "{\"id\":\"" + (chat ? "chatcmpl-soak-" : "cmpl-soak-") + ids.incrementAndGet() + "\",\"object\":\""
                + (chat ? "chat.completion" : "text_completion") + "\",\"created\":" + created + ",\"model\":\""
                + model + "\",\"choices\":" + choices + ",\"usage\":{\"prompt_tokens\":12,\"total_tokens\":"
                + (12 + tokens) + ",\"completion_tokens\":" + tokens + "}}";
    }

    static void respond(OutputStream out, int status, String type, String body, boolean close) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String reason = switch (status) {
            case 200 -> "OK";
            case 404 -> "Not Found";
            case 503 -> "Service Unavailable";
            default -> "Status";
        };
        out.write(("HTTP/1.1 " + status + " " + reason + "\r\ncontent-type: " + type + "\r\ncontent-length: "
                + bytes.length + "\r\n" + (close ? "connection: close\r\n" : "") + "\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.flush();
    }

    /** Blocks until the client closes the connection (or ten minutes pass). */
    static void holdUntilClosed(InputStream in) {
        long until = System.currentTimeMillis() + 600_000;
        try {
            while (System.currentTimeMillis() < until) {
                if (in.read() < 0) {
                    return;
                }
            }
        } catch (IOException e) {
            // closed
        }
    }

    static byte[] readBody(InputStream in, Map<String, String> headers) throws IOException {
        String length = headers.get("Content-Length");
        if (length != null) {
            return in.readNBytes(Integer.parseInt(length.trim()));
        }
        if ("chunked".equalsIgnoreCase(headers.get("Transfer-Encoding"))) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            while (true) {
                String size = readLine(in);
                if (size == null) {
                    throw new IOException("eof in chunked body");
                }
                int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                if (n == 0) {
                    String trailer;
                    while ((trailer = readLine(in)) != null && !trailer.isEmpty()) {
                        // skip trailers
                    }
                    return body.toByteArray();
                }
                body.write(in.readNBytes(n));
                readLine(in);
            }
        }
        return new byte[0];
    }

    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
            }
            if (line.size() > 16384) {
                throw new IOException("line too long");
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
    }

    static int intField(String json, String name, int fallback) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*(\\d+)").matcher(json);
        return m.find() ? Integer.parseInt(m.group(1)) : fallback;
    }

    static void sleep(long ms) {
        if (ms <= 0) {
            return;
        }
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

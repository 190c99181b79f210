package bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * The benchmark's upstream: a vLLM-shaped HTTP/1.1 server that writes the way vLLM (uvicorn) does, one socket write
 * per SSE event. Blocking, one thread per connection, TCP_NODELAY, and every write goes straight to the socket's
 * unbuffered stream, so each event is one {@code write(2)} and, with Nagle off, its own TCP segment (bench/run.sh
 * proves it with strace before measuring).
 *
 * <pre>java -cp bench-floor.jar bench.FakeVllm &lt;port&gt; &lt;pace-ms&gt;</pre>
 *
 * Paths are {@code /<shape>/v1/...} so one server serves every shape; the gateway's backends point at
 * {@code http://host:port/<shape>/v1}:
 * <ul>
 *   <li>{@code POST /<shape>/v1/chat/completions}: {@code "stream":true} in the body gives an SSE stream of
 *       {@link #CHUNKS} chunks (role, {@link #TOKENS} content chunks, finish, usage if
 *       {@code stream_options.include_usage} is set) and {@code data: [DONE]}; otherwise one JSON body. Under
 *       {@code /paced/} the stream sends one event every pace-ms milliseconds (the first at once); under any other
 *       prefix all at once (burst), still one write per event.</li>
 *   <li>{@code GET /<shape>/health} (empty 200), {@code GET /<shape>/v1/models}, {@code POST /<shape>/tokenize}.</li>
 * </ul>
 * Writes per stream request: 1 (status line and headers) + one per event + 1 (the last, empty chunk).
 */
public final class FakeVllm {

    static final int TOKENS = 33;
    /** Data chunks of a stream with usage: role + tokens + finish + usage = 36, then [DONE]. */
    static final int CHUNKS = TOKENS + 3;
    static final String HEAD = "\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"bench-model\"";
    static final Pattern STREAM = Pattern.compile("\"stream\"\\s*:\\s*true");
    static final Pattern USAGE = Pattern.compile("\"include_usage\"\\s*:\\s*true");

    static final byte[] STREAM_HEAD = ascii("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
            + "server: bench-vllm\r\ntransfer-encoding: chunked\r\n\r\n");
    static final byte[] LAST_CHUNK = ascii("0\r\n\r\n");
    static final List<byte[]> EVENTS_USAGE = events(true);
    static final List<byte[]> EVENTS_PLAIN = events(false);
    static final byte[] JSON = response(200, "application/json", completionJson());
    static final byte[] MODELS = response(200, "application/json", "{\"object\":\"list\",\"data\":[{\"id\":\"bench-model\","
            + "\"object\":\"model\",\"created\":1,\"owned_by\":\"vllm\",\"root\":\"bench-model\",\"parent\":null,"
            + "\"max_model_len\":32768}]}");
    static final byte[] HEALTH = response(200, null, "");
    static final byte[] TOKENIZE = response(200, "application/json", "{\"count\":11,\"max_model_len\":32768,\"tokens\":[]}");
    static final byte[] NOT_FOUND = response(404, "application/json",
            "{\"error\":{\"message\":\"Not Found\",\"type\":\"NotFoundError\",\"param\":null,\"code\":404}}");

    static final AtomicLong STREAMS = new AtomicLong();
    static final AtomicLong JSONS = new AtomicLong();

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        long paceMs = Long.parseLong(args[1]);
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 4096);
        System.out.println("fake vLLM on 127.0.0.1:" + port + ", pace " + paceMs + " ms, " + CHUNKS + " chunks + [DONE]");
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
                System.out.println("served " + STREAMS.get() + " streams, " + JSONS.get() + " JSON answers")));
        while (true) {
            Socket socket = server.accept();
            Thread thread = new Thread(() -> serve(socket, paceMs), "conn");
            thread.setDaemon(true);
            thread.start();
        }
    }

    static void serve(Socket socket, long paceMs) {
        try (socket) {
            socket.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(socket.getInputStream(), 16384);
            OutputStream out = socket.getOutputStream(); // unbuffered: one write(2) per write()
            while (true) {
                Request request = Request.read(in);
                if (request == null) {
                    return;
                }
                answer(request, out, paceMs);
                if (request.close) {
                    return;
                }
            }
        } catch (IOException | InterruptedException e) {
            // the client left; nothing to do
        }
    }

    static void answer(Request request, OutputStream out, long paceMs) throws IOException, InterruptedException {
        String path = request.path;
        int slash = path.indexOf('/', 1);
        String shape = slash > 0 ? path.substring(1, slash) : "";
        String rest = slash > 0 ? path.substring(slash) : path;
        if (request.method.equals("POST") && rest.equals("/v1/chat/completions")) {
            String body = new String(request.body, StandardCharsets.UTF_8);
            if (!STREAM.matcher(body).find()) {
                JSONS.incrementAndGet();
                out.write(JSON);
                return;
            }
            STREAMS.incrementAndGet();
            long pace = shape.equals("paced") ? paceMs : 0;
            out.write(STREAM_HEAD);
            boolean first = true;
            for (byte[] event : USAGE.matcher(body).find() ? EVENTS_USAGE : EVENTS_PLAIN) {
                if (!first && pace > 0) {
                    Thread.sleep(pace);
                }
                first = false;
                out.write(event);
            }
            out.write(LAST_CHUNK);
        } else if (request.method.equals("GET") && rest.equals("/health")) {
            out.write(HEALTH);
        } else if (request.method.equals("GET") && rest.equals("/v1/models")) {
            out.write(MODELS);
        } else if (request.method.equals("POST") && rest.equals("/tokenize")) {
            out.write(TOKENIZE);
        } else {
            out.write(NOT_FOUND);
        }
    }

    static String token(int i) {
        return String.format(" tok%02d", i);
    }

    static List<byte[]> events(boolean usage) {
        List<String> data = new ArrayList<>();
        data.add(chunk("{\"role\":\"assistant\",\"content\":\"\"}", "null"));
        for (int i = 1; i <= TOKENS; i++) {
            data.add(chunk("{\"content\":\"" + token(i) + "\"}", "null"));
        }
        data.add(chunk("{\"content\":\"\"}", "\"stop\",\"stop_reason\":null"));
        if (usage) {
            data.add("{" + HEAD + ",\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"total_tokens\":" + (11 + TOKENS)
                    + ",\"completion_tokens\":" + TOKENS + "}}");
        }
        data.add("[DONE]");
        List<byte[]> events = new ArrayList<>();
        for (String d : data) {
            byte[] event = ascii("data: " + d + "\n\n");
            events.add(ascii(Integer.toHexString(event.length) + "\r\n" + new String(event, StandardCharsets.US_ASCII)
                    + "\r\n"));
        }
        return List.copyOf(events);
    }

    static String chunk(String delta, String finish) {
        return "{" + HEAD + ",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"logprobs\":null,\"finish_reason\":"
                + finish + "}]}";
    }

    static String completionJson() {
        StringBuilder text = new StringBuilder();
        for (int i = 1; i <= TOKENS; i++) {
            text.append(token(i));
        }
        return "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"bench-model\","
                + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + text + "\"},"
                + "\"logprobs\":null,\"finish_reason\":\"stop\",\"stop_reason\":null}],"
                + "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":" + TOKENS + ",\"total_tokens\":" + (11 + TOKENS)
                + "}}";
    }

    static byte[] response(int status, String contentType, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + (status == 200 ? " OK" : " Not Found") + "\r\nserver: bench-vllm\r\n"
                + (contentType == null ? "" : "content-type: " + contentType + "\r\n")
                + "content-length: " + bytes.length + "\r\n\r\n";
        return ascii(head + body);
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** One HTTP/1.1 request: method, path, body (Content-Length or chunked), and whether the client asked to close. */
    static final class Request {
        String method;
        String path;
        byte[] body = new byte[0];
        boolean close;

        static Request read(InputStream in) throws IOException {
            String line = HttpWire.line(in);
            while (line != null && line.isEmpty()) {
                line = HttpWire.line(in);
            }
            if (line == null) {
                return null;
            }
            Request request = new Request();
            String[] parts = line.split(" ");
            if (parts.length < 3) {
                throw new IOException("bad request line: " + line);
            }
            request.method = parts[0];
            String target = parts[1];
            int query = target.indexOf('?');
            request.path = query >= 0 ? target.substring(0, query) : target;
            request.close = parts[2].equals("HTTP/1.0");
            long length = 0;
            boolean chunked = false;
            String header;
            while ((header = HttpWire.line(in)) != null && !header.isEmpty()) {
                int colon = header.indexOf(':');
                if (colon <= 0) {
                    continue;
                }
                String name = header.substring(0, colon).trim().toLowerCase();
                String value = header.substring(colon + 1).trim().toLowerCase();
                switch (name) {
                    case "content-length" -> length = Long.parseLong(value);
                    case "transfer-encoding" -> chunked = value.contains("chunked");
                    case "connection" -> request.close = value.contains("close") || (request.close && !value.contains("keep-alive"));
                    default -> { }
                }
            }
            if (header == null) {
                return null;
            }
            if (chunked) {
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                while (true) {
                    String size = HttpWire.line(in);
                    if (size == null) {
                        return null;
                    }
                    int n = HttpWire.chunkSize(size);
                    if (n == 0) {
                        HttpWire.skipTrailers(in);
                        break;
                    }
                    body.write(in.readNBytes(n));
                    HttpWire.line(in);
                }
                request.body = body.toByteArray();
            } else if (length > 0) {
                request.body = in.readNBytes((int) length);
            }
            return request;
        }
    }
}

package bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Latency at low load: N sequential requests over one keep-alive connection (raw socket, TCP_NODELAY, one write per
 * request), after a discarded warm-up. For a stream it measures the time to first token (TTFT: from the first byte
 * of the request written to the arrival of the first {@code data:} event whose delta has non-empty content), for a
 * JSON answer the time to the whole body; both also the time to the end of the answer.
 *
 * <pre>java -cp bench-floor.jar bench.LowLoad &lt;port&gt; &lt;path&gt; &lt;body-file&gt; &lt;stream|json&gt; &lt;requests&gt;
 *     &lt;warmup-requests&gt; [authorization-header-value]</pre>
 *
 * Prints one line: {@code first_p50_ms=.. first_p99_ms=.. total_p50_ms=.. total_p99_ms=.. requests=.. errors=..};
 * exit code 1 when any answer was not a 200 or a stream did not end with {@code data: [DONE]}.
 */
public final class LowLoad {

    private static final byte[] CONTENT = "\"content\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DONE = "data: [DONE]".getBytes(StandardCharsets.US_ASCII);

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        String path = args[1];
        byte[] body = Files.readAllBytes(Path.of(args[2]));
        boolean stream = args[3].equals("stream");
        int requests = Integer.parseInt(args[4]);
        int warmup = Integer.parseInt(args[5]);
        String auth = args.length > 6 && !args[6].isEmpty() ? "authorization: " + args[6] + "\r\n" : "";
        byte[] head = ("POST " + path + " HTTP/1.1\r\nhost: 127.0.0.1:" + port + "\r\ncontent-type: application/json\r\n"
                + auth + "content-length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] request = new byte[head.length + body.length];
        System.arraycopy(head, 0, request, 0, head.length);
        System.arraycopy(body, 0, request, head.length, body.length);

        double[] first = new double[requests];
        double[] total = new double[requests];
        int errors = 0;
        String lastError = "";
        Conn socket = connect(port);
        for (int i = -warmup; i < requests; i++) {
            Result r;
            try {
                r = exchange(socket, request, stream);
            } catch (IOException e) {
                r = new Result();
                r.error = "I/O: " + e.getMessage();
                socket.close();
                socket = connect(port);
            }
            if (r.error != null) {
                errors++;
                lastError = r.error;
            }
            if (i >= 0) {
                first[i] = r.firstNanos / 1e6;
                total[i] = r.totalNanos / 1e6;
            }
            if (r.close) {
                socket.close();
                socket = connect(port);
            }
        }
        socket.close();
        Arrays.sort(first);
        Arrays.sort(total);
        System.out.printf("first_p50_ms=%.3f first_p99_ms=%.3f total_p50_ms=%.3f total_p99_ms=%.3f requests=%d errors=%d%n",
                pct(first, 50), pct(first, 99), pct(total, 50), pct(total, 99), requests, errors);
        if (errors > 0) {
            System.err.println("last error: " + lastError);
            System.exit(1);
        }
    }

    /** One keep-alive connection; its buffered reader lives as long as the socket, so no answer byte is lost. */
    static final class Conn {
        final Socket socket;
        final InputStream in;
        final OutputStream out;

        Conn(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream(), 65536);
            this.out = socket.getOutputStream();
        }

        void close() throws IOException {
            socket.close();
        }
    }

    static Conn connect(int port) throws IOException {
        Socket socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(10_000);
        return new Conn(socket);
    }

    static double pct(double[] sorted, int p) {
        if (sorted.length == 0) {
            return 0;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    static final class Result {
        long firstNanos;
        long totalNanos;
        String error;
        boolean close;
    }

    /** Sends one request and reads its answer to the end (Content-Length or chunked). */
    static Result exchange(Conn conn, byte[] request, boolean stream) throws IOException {
        InputStream in = conn.in;
        OutputStream out = conn.out;
        Result result = new Result();
        long start = System.nanoTime();
        out.write(request);
        String status = HttpWire.line(in);
        if (status == null) {
            throw new IOException("connection closed before the status line");
        }
        long length = -1;
        boolean chunked = false;
        String header;
        while ((header = HttpWire.line(in)) != null && !header.isEmpty()) {
            String lower = header.toLowerCase();
            if (lower.startsWith("content-length:")) {
                length = Long.parseLong(lower.substring(15).trim());
            } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            } else if (lower.startsWith("connection:") && lower.contains("close")) {
                result.close = true;
            }
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        int scanned = 0;
        if (chunked) {
            while (true) {
                String size = HttpWire.line(in);
                if (size == null) {
                    throw new IOException("connection closed inside a chunked body");
                }
                int n = HttpWire.chunkSize(size);
                if (n == 0) {
                    HttpWire.skipTrailers(in);
                    break;
                }
                body.write(in.readNBytes(n));
                HttpWire.line(in);
                if (stream && result.firstNanos == 0) {
                    byte[] seen = body.toByteArray();
                    if (hasContent(seen, Math.max(0, scanned - CONTENT.length - 1))) {
                        result.firstNanos = System.nanoTime() - start;
                    }
                    scanned = seen.length;
                }
            }
        } else if (length >= 0) {
            body.write(in.readNBytes((int) length));
        } else {
            body.write(in.readAllBytes());
            result.close = true;
        }
        result.totalNanos = System.nanoTime() - start;
        byte[] bytes = body.toByteArray();
        if (!stream) {
            result.firstNanos = result.totalNanos;
        } else if (result.firstNanos == 0 && hasContent(bytes, 0)) {
            result.firstNanos = result.totalNanos;
        }
        if (!status.startsWith("HTTP/1.1 200")) {
            result.error = status + ": " + new String(bytes, 0, Math.min(bytes.length, 300), StandardCharsets.UTF_8);
        } else if (stream && (result.firstNanos == 0 || indexOf(bytes, DONE, 0) < 0)) {
            result.error = "stream without content or without data: [DONE]";
        }
        return result;
    }

    /** Whether a {@code "content":"} with at least one character before its closing quote occurs from {@code from}. */
    static boolean hasContent(byte[] bytes, int from) {
        int at = from;
        while ((at = indexOf(bytes, CONTENT, at)) >= 0) {
            int next = at + CONTENT.length;
            if (next < bytes.length && bytes[next] != '"') {
                return true;
            }
            at = next;
        }
        return false;
    }

    static int indexOf(byte[] bytes, byte[] pattern, int from) {
        outer:
        for (int i = from; i <= bytes.length - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (bytes[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}

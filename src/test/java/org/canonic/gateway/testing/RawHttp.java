package org.canonic.gateway.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A raw socket HTTP/1.1 client: the most faithful way to make a client disconnect at a chosen moment.
 */
public final class RawHttp implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final ByteArrayOutputStream seen = new ByteArrayOutputStream();

    private RawHttp(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
    }

    /** Opens a connection and sends nothing yet. */
    public static RawHttp connect(int port) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        return new RawHttp(socket);
    }

    /**
     * Opens a connection from another loopback address ({@code 127.0.0.x}): the gateway counts failed admin
     * authentications per client address, so a test that fails on purpose from its own address leaves the other
     * tests' allowance (10 a minute) alone.
     */
    public static RawHttp connectFrom(String localAddress, int port) throws IOException {
        Socket socket = new Socket(java.net.InetAddress.getByName("127.0.0.1"), port,
                java.net.InetAddress.getByName(localAddress), 0);
        socket.setSoTimeout(10_000);
        return new RawHttp(socket);
    }

    /** Sends text as is (ISO-8859-1). */
    public RawHttp send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawHttp send(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
        return this;
    }

    /**
     * Reads until the server closes the connection; true if it did within {@code timeoutMs} (what arrived before
     * is kept, see {@link #seen()}), false if the connection was still open then.
     */
    public boolean closedWithin(long timeoutMs) throws IOException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        byte[] buffer = new byte[4096];
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return false;
            }
            socket.setSoTimeout((int) Math.max(1, left));
            try {
                int n = in.read(buffer);
                if (n < 0) {
                    return true;
                }
                seen.write(buffer, 0, n);
            } catch (java.net.SocketTimeoutException e) {
                return false;
            } catch (java.net.SocketException e) {
                return true;
            }
        }
    }

    /** Reads one whole response (its head and its Content-Length body); returns it, keeping what follows. */
    public String readResponse() throws IOException {
        String head = readUntil("\r\n\r\n");
        int headEnd = head.indexOf("\r\n\r\n") + 4;
        java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)\r\ncontent-length:\\s*(\\d+)")
                .matcher(head.substring(0, headEnd));
        int bodyLength = length.find() ? Integer.parseInt(length.group(1)) : 0;
        byte[] buffer = new byte[4096];
        while (seen.size() < headEnd + bodyLength) {
            int n = in.read(buffer);
            if (n < 0) {
                throw new IOException("connection closed inside a response body; got: " + seen);
            }
            seen.write(buffer, 0, n);
        }
        String all = seen.toString(StandardCharsets.UTF_8);
        String response = all.substring(0, headEnd + bodyLength);
        seen.reset();
        seen.write(all.substring(headEnd + bodyLength).getBytes(StandardCharsets.UTF_8));
        return response;
    }

    /** Everything received and not yet consumed by {@link #readResponse()}. */
    public String seen() {
        return seen.toString(StandardCharsets.UTF_8);
    }

    /** The body of a raw answer. */
    public static String body(String answer) {
        return answer.substring(answer.indexOf("\r\n\r\n") + 4);
    }

    /** Opens a connection and sends a POST with a JSON body. */
    public static RawHttp post(int port, String path, String json) throws IOException {
        return post(port, path, json, "");
    }

    /** As {@link #post(int, String, String)}, with extra header lines ({@code "Name: value\r\n"} each). */
    public static RawHttp post(int port, String path, String json, String extraHeaders) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Type: application/json\r\n"
                + extraHeaders + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        return new RawHttp(socket);
    }

    /**
     * Sends any request text as is (request line, headers, body) with {@code Connection: close} and returns the
     * whole answer: for requests no ordinary client would send.
     */
    public static String exchange(int port, String method, String target, String headers, String body)
            throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write((method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers
                    + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(bytes);
            out.flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The status code of a raw answer. */
    public static int status(String answer) {
        return Integer.parseInt(answer.substring(9, 12));
    }

    /** Reads until the bytes received so far contain {@code marker}; returns everything read. */
    public String readUntil(String marker) throws IOException {
        byte[] buffer = new byte[4096];
        while (!seen.toString(StandardCharsets.UTF_8).contains(marker)) {
            int n = in.read(buffer);
            if (n < 0) {
                throw new IOException("connection closed before '" + marker + "' arrived; got: " + seen);
            }
            seen.write(buffer, 0, n);
        }
        return seen.toString(StandardCharsets.UTF_8);
    }

    /** Closes the socket at once: the client "goes away". */
    @Override
    public void close() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }
}

package bench;

import java.io.IOException;
import java.io.InputStream;

/** The HTTP/1.1 reading both raw-socket helpers need: lines, chunk sizes, trailers. */
final class HttpWire {

    private HttpWire() {
    }

    /** One line without its CRLF (or LF); null at the end of the stream before any character. */
    static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                int n = sb.length();
                return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
            }
            sb.append((char) c);
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    /** The size a chunk-size line announces (hex, chunk extensions ignored). */
    static int chunkSize(String sizeLine) {
        int semi = sizeLine.indexOf(';');
        return Integer.parseInt((semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim(), 16);
    }

    /** Reads the trailer section after the last chunk, up to and including its empty line. */
    static void skipTrailers(InputStream in) throws IOException {
        String trailer;
        do {
            trailer = line(in);
        } while (trailer != null && !trailer.isEmpty());
    }
}

package bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A second, lower JVM floor: a featureless reverse proxy written directly on Netty's HTTP codecs (no Vert.x request or
 * response objects, no header maps of its own, no promises), with a keep-alive pool of origin connections per event
 * loop. It answers one question: how much cheaper than Vert.x's HTTP server and client ({@link Floor}) can the JVM
 * transport get, i.e. what a gateway that wrote its own Netty handlers could hope to save. Same threads as
 * {@link Floor} (2 event loops per CPU the JVM sees, NIO). Relays what it reads as it reads it: a stream's events leave
 * with the upstream read they came in (one flush per read), a whole body leaves at once.
 *
 * <pre>java -cp bench-floor.jar bench.NettyFloor &lt;listen-port&gt; &lt;origin-port&gt;</pre>
 */
public final class NettyFloor {

    /** Idle origin connections of the current event loop. */
    private static final FastThreadLocal<ArrayDeque<Channel>> IDLE = new FastThreadLocal<>() {
        @Override
        protected ArrayDeque<Channel> initialValue() {
            return new ArrayDeque<>();
        }
    };

    private final int originPort;
    private final String originHost;

    private NettyFloor(int originPort) {
        this.originPort = originPort;
        this.originHost = "127.0.0.1:" + originPort;
    }

    public static void main(String[] args) throws InterruptedException {
        int port = Integer.parseInt(args[0]);
        int originPort = Integer.parseInt(args[1]);
        int loops = 2 * Runtime.getRuntime().availableProcessors();
        NioEventLoopGroup group = new NioEventLoopGroup(loops);
        NettyFloor floor = new NettyFloor(originPort);
        new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        channel.pipeline().addLast(new HttpServerCodec(), floor.new ClientSide());
                    }
                })
                .bind("127.0.0.1", port).sync();
        System.out.println("netty floor on 127.0.0.1:" + port + " -> 127.0.0.1:" + originPort + ", " + loops
                + " event loops, " + Runtime.getRuntime().availableProcessors() + " CPU(s) seen");
    }

    /** One client connection: each request goes to an origin connection, which relays the answer back. */
    private final class ClientSide extends ChannelInboundHandlerAdapter {
        private Channel origin;
        /** What the client sent before its origin connection was open. */
        private List<Object> pending;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest request) {
                request.headers().set(HttpHeaderNames.HOST, originHost);
                ArrayDeque<Channel> idle = IDLE.get();
                Channel pooled = idle.pollFirst();
                while (pooled != null && !pooled.isActive()) {
                    pooled = idle.pollFirst();
                }
                if (pooled != null) {
                    bind(ctx.channel(), pooled);
                } else {
                    pending = new ArrayList<>();
                    connect(ctx.channel());
                }
            }
            if (pending != null) {
                pending.add(msg);
            } else if (origin != null) {
                if (msg instanceof LastHttpContent) {
                    origin.writeAndFlush(msg, origin.voidPromise());
                } else {
                    origin.write(msg, origin.voidPromise());
                }
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        private void connect(Channel client) {
            EventLoop loop = client.eventLoop();
            ChannelFuture opening = new Bootstrap().group(loop).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel channel) {
                            channel.pipeline().addLast(new HttpClientCodec(), new OriginSide());
                        }
                    })
                    .connect("127.0.0.1", originPort);
            opening.addListener(done -> {
                List<Object> queued = pending;
                pending = null;
                if (!done.isSuccess()) {
                    queued.forEach(ReferenceCountUtil::release);
                    client.close();
                    return;
                }
                bind(client, opening.channel());
                for (Object msg : queued) {
                    origin.write(msg, origin.voidPromise());
                }
                origin.flush();
            });
        }

        private void bind(Channel client, Channel originChannel) {
            origin = originChannel;
            originChannel.pipeline().get(OriginSide.class).client = client;
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (origin != null) {
                origin.close(); // mid-answer: the origin connection cannot be reused
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        /** The answer is complete: the origin connection goes back to the pool. */
        void answered(Channel originChannel) {
            origin = null;
            IDLE.get().addLast(originChannel);
        }
    }

    /** One origin connection: relays the answer to the client it serves now. */
    private final class OriginSide extends ChannelInboundHandlerAdapter {
        private Channel client;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (client == null || !(msg instanceof HttpObject)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            Channel to = client;
            to.write(msg, to.voidPromise()); // flushed at the end of this read (channelReadComplete) or below
            if (msg instanceof LastHttpContent) {
                client = null;
                to.flush();
                to.pipeline().get(ClientSide.class).answered(ctx.channel());
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (client != null) {
                client.flush();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (client != null) {
                client.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}

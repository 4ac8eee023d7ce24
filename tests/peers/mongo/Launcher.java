// The MongoDB test peer: mongo-java-server with its oplog enabled, so that
// change streams work.  Run as a single source file with the jars that
// scripts/lib/deps.d/maven.sh fetched on the class path:
//
//   java -cp "$JARS" tests/peers/mongo/Launcher.java [--port N] [--h2 FILE]
//
// --port N   listen on 127.0.0.1:N; 0 (the default) picks a free port.
// --h2 FILE  keep data and oplog in an H2 MVStore file, so that a restart
//            on the same file resumes change streams; default: memory only.
//
// When it accepts connections it prints exactly one line to stdout,
//   mongo-java-server listening on mongodb://127.0.0.1:PORT
// and nothing else there.  SIGTERM (or SIGINT) closes the server and, with
// --h2, commits and closes the file before the process exits.
//
// With --h2 it prints that line only once the wall clock is past the second
// of the newest oplog entry in the file.  mongo-java-server stamps oplog
// entries (epoch second, increment) with an increment that starts again at
// 1 in every process, so a restart within the second of the last write
// would stamp new changes at or before old ones: change streams resumed
// from a token of that second would skip them (MongoDB's oplog timestamps
// only ever grow).  Waiting costs at most a second per restart.

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.BsonTimestamp;

import java.net.InetSocketAddress;

public class Launcher {
    private static void usage(String why) {
        System.err.println("Launcher: " + why);
        System.err.println("usage: Launcher [--port N] [--h2 FILE]");
        System.exit(2);
    }

    // A wall clock more than this far behind the file's newest oplog entry is
    // a clock that went back, not a quick restart: refuse instead of waiting.
    private static final long MAX_OPLOG_WAIT_MS = 10_000;

    // Blocks until backend's clock is in a later second than every oplog
    // entry already stored (see the header); exits 1 if that is too far off.
    private static void waitPastNewestOplogSecond(MongoBackend backend) throws InterruptedException {
        MongoCollection<?> oplog = backend.resolveDatabase("local").resolveCollection("oplog.rs", false);
        if (oplog == null) {
            return;
        }
        long newest = oplog.queryAllAsStream()
            .mapToLong(entry -> Integer.toUnsignedLong(((BsonTimestamp) entry.get("ts")).getTime()))
            .max().orElse(-1);
        if (newest < 0) {
            return;
        }
        long waitMs = (newest + 1) * 1000 - backend.getClock().millis();
        if (waitMs > MAX_OPLOG_WAIT_MS) {
            System.err.println("Launcher: the clock is " + waitMs / 1000
                + " s behind the newest oplog entry of the H2 file; change streams would skip new changes");
            backend.close();
            System.exit(1);
        }
        while (backend.getClock().instant().getEpochSecond() <= newest) {
            Thread.sleep(Math.max(1, (newest + 1) * 1000 - backend.getClock().millis()));
        }
    }

    public static void main(String[] args) throws Exception {
        int port = 0;
        String h2File = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if ((arg.equals("--port") || arg.equals("--h2")) && i + 1 >= args.length) {
                usage(arg + " needs a value");
            }
            switch (arg) {
                case "--port":
                    try {
                        port = Integer.parseInt(args[++i]);
                    } catch (NumberFormatException e) {
                        usage("--port wants a number, got " + args[i]);
                    }
                    if (port < 0 || port > 65535) {
                        usage("--port out of range: " + port);
                    }
                    break;
                case "--h2":
                    h2File = args[++i];
                    break;
                default:
                    usage("unknown argument " + arg);
            }
        }

        MongoBackend backend = h2File != null ? new H2Backend(h2File) : new MemoryBackend();
        MongoServer server = new MongoServer(backend);
        server.enableOplog();
        if (h2File != null) {
            waitPastNewestOplogSecond(backend);
        }
        InetSocketAddress address;
        try {
            server.bind("127.0.0.1", port);
            address = server.getLocalAddress();
        } catch (Exception e) {
            // Netty rethrows checked exceptions (BindException) undeclared.
            System.err.println("Launcher: cannot listen on 127.0.0.1:" + port + ": " + e);
            server.shutdownNow();
            System.exit(1);
            return;
        }

        // The JVM runs shutdown hooks on SIGTERM and SIGINT.  shutdownNow()
        // drops connected clients (a graceful close would wait for them) and
        // closes the backend too, which for H2 commits and closes the file.
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));

        System.out.println("mongo-java-server listening on mongodb://127.0.0.1:" + address.getPort());
        System.out.flush();
    }
}

import { AppError } from "../domain/errors.ts";
import type { AccessClaims } from "../services/access-tokens.ts";
import type { Principal } from "../services/principal.ts";
import type { Connection } from "./connection.ts";
import type { GatewayContext } from "./context.ts";
import { connectedFrame } from "./frames.ts";
import { chooseVersion, connectToken } from "./handshake-rules.ts";
import { negotiateHeartBeats, parseHeartBeat } from "./heartbeat.ts";
import { header, type StompFrame } from "./stomp/frame.ts";

/**
 * CONNECT / STOMP: version, heart-beats, authentication, the per-user connection limit, then CONNECTED. Any
 * failure is an ERROR frame and the connection closes.
 *
 * The token's signature is checked first, which reads nothing; the connection is then bound to the token's
 * session (`Connection.claims`) and joins the user's broker channel, and only then is the session read. So a
 * revocation that lands while the connection is being set up either is committed before that one read, which
 * sees it, or is published after the channel was joined, and its notice fails the connection by its session id
 * (gateway.ts) whether or not the read has finished.
 */
export async function handleConnect(ctx: GatewayContext, conn: Connection, frame: StompFrame): Promise<void> {
  const version = chooseVersion(header(frame, "accept-version"));
  if (version === null) {
    conn.fail("UNSUPPORTED_VERSION", "Supported STOMP versions: 1.2, 1.1, 1.0.");
    return;
  }
  const clientBeats = parseHeartBeat(header(frame, "heart-beat"));
  if (clientBeats === null) {
    conn.fail("MALFORMED_FRAME", "heart-beat must be two non-negative integers: cx,cy.");
    return;
  }
  const token = connectToken(frame.headers);
  if (token === null) {
    conn.fail("UNAUTHENTICATED", "An access token is required: Authorization: Bearer <token>, or passcode.");
    return;
  }
  let claims: AccessClaims;
  try {
    claims = await ctx.services.auth.verifyAccessToken(token);
  } catch (err) {
    failWith(ctx, conn, err);
    return;
  }
  if (conn.isClosed) return;
  if (ctx.connections.countOfUser(claims.userId) >= ctx.config.wsMaxConnectionsPerUser) {
    conn.fail("TOO_MANY_CONNECTIONS", `At most ${ctx.config.wsMaxConnectionsPerUser} connections per user.`);
    return;
  }
  conn.claims = claims;
  ctx.connections.bindUser(conn, claims.userId);
  let principal: Principal;
  try {
    await ctx.userChannels.acquire(claims.userId);
    if (conn.isClosed) {
      // Closed (and cleaned up) while joining: nothing else will release this reference.
      ctx.userChannels.release(claims.userId);
      return;
    }
    conn.holdsUserChannel = true;
    principal = await ctx.services.auth.principalOf(claims);
  } catch (err) {
    failWith(ctx, conn, err);
    return;
  }
  if (conn.isClosed) return;
  const beats = negotiateHeartBeats(clientBeats, ctx.config.wsHeartbeatMs);
  // Frames decoded from now on are unescaped for the negotiated version.
  conn.version = version;
  conn.inMs = beats.inMs;
  conn.outMs = beats.outMs;
  const now = ctx.clock.now();
  conn.lastReceivedAt = now;
  conn.lastHeartbeatAt = now;
  conn.principal = principal;
  // The same ids: the principal stands for the claims from now on, and the claims object can go.
  conn.claims = principal;
  conn.phase = "open";
  conn.send(
    connectedFrame({
      version,
      heartBeat: beats.header,
      session: conn.id,
      userName: principal.userId,
      server: ctx.serverName,
    }),
  );
}

function failWith(ctx: GatewayContext, conn: Connection, err: unknown): void {
  if (err instanceof AppError) {
    conn.fail(err.code, err.message);
    return;
  }
  ctx.logger.error({ err, conn: conn.id }, "STOMP CONNECT failed");
  conn.fail("UNAVAILABLE", "The server could not establish the session; retry later.");
}

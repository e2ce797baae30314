package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/adapters/sms/smstexts"
	"github.com/ultramarket/gateway/application/admin"
	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

// now is neither in UTC nor at whole microseconds, on purpose: responses
// must convert every timestamp and cut it to what Postgres keeps.
var (
	tashkent = time.FixedZone("Asia/Tashkent", 5*3600)
	now      = time.Date(2026, 11, 27, 13, 0, 0, 123456789, tashkent)
)

const (
	refreshTTL = 720 * time.Hour
	accessTTL  = 15 * time.Minute
	annID      = "6f1c9a52-3b7e-4d0a-9c1e-2a4b5c6d7e8f"
	bobID      = "7a2d0b63-4c8f-4e1b-8d2f-3b5c6d7e8f90"
	sessionID  = "0b5e7d3a-1c2f-4e6a-8b9d-0c1e2f3a4b5c"
	otherSID   = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
	password   = "Str0ng-enough-pass"
)

// sessionLife is how long the fixture's sessions live.
var sessionLife = session.Lifetime{TTL: refreshTTL, MaxAge: 3 * refreshTTL}

// seqIDs hands out distinct UUIDs in order: the user's, then the session's.
type seqIDs struct{ n atomic.Int64 }

func (s *seqIDs) NewID() string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", s.n.Add(1))
}

// identity is the public server with the real auth and admin use cases
// mounted on it, their ports mocked.
type identity struct {
	fixture
	authenticate *auth.Authenticate
	tokens       *mocks.MockTokenIssuer
	sessions     *mocks.MockSessionStore
	users        *mocks.MockUserRepository
	hasher       *mocks.MockPasswordHasher
	guard        *mocks.MockLoginGuard
	codes        *mocks.MockOTPStore
	sms          *mocks.MockSMSSender
}

func newIdentity(t *testing.T) identity {
	t.Helper()
	ctrl := gomock.NewController(t)
	f := identity{
		fixture:  newFixture(t, nil),
		tokens:   mocks.NewMockTokenIssuer(ctrl),
		sessions: mocks.NewMockSessionStore(ctrl),
		users:    mocks.NewMockUserRepository(ctrl),
		hasher:   mocks.NewMockPasswordHasher(ctrl),
		guard:    mocks.NewMockLoginGuard(ctrl),
		codes:    mocks.NewMockOTPStore(ctrl),
		sms:      mocks.NewMockSMSSender(ctrl),
	}
	clock, ids := testsupport.FixedClock(now), &seqIDs{}
	// Every session start reads the user's revocation epoch first.
	f.sessions.EXPECT().UserEpoch(gomock.Any(), gomock.Any()).Return(int64(0), nil).AnyTimes()
	// The profile cache is the Redis adapter's (tested there and in e2e).
	f.sessions.EXPECT().CacheProfile(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Return(nil).AnyTimes()
	f.sessions.EXPECT().ForgetProfiles(gomock.Any(), gomock.Any()).Return(nil).AnyTimes()
	f.hasher.EXPECT().Hash(gomock.Any(), dummyPassword{}).Return("$argon2id$dummy", nil).MaxTimes(1) // Login's dummy, made by the first login
	login, err := auth.NewLogin(f.users, f.hasher, f.guard, f.sessions, f.tokens, ids, clock,
		auth.SessionPolicy{Lifetime: sessionLife, MaxPerUser: 20})
	require.NoError(t, err)
	f.authenticate = auth.NewAuthenticate(f.tokens, f.sessions, clock)
	httpapi.RegisterAuth(f.e, httpapi.AuthUseCases{
		Authenticate:   f.authenticate,
		Register:       auth.NewRegister(f.users, f.hasher, f.sessions, f.tokens, ids, clock, sessionLife),
		Login:          login,
		Refresh:        auth.NewRefresh(f.users, f.sessions, f.tokens, clock, sessionLife),
		Logout:         auth.NewLogout(f.sessions, clock),
		LogoutAll:      auth.NewLogoutAll(f.sessions, clock),
		Me:             auth.NewMe(f.users, f.sessions),
		ListSessions:   auth.NewListSessions(f.sessions, clock),
		DeleteSession:  auth.NewDeleteSession(f.sessions, clock),
		ChangePassword: auth.NewChangePassword(testsupport.InlineTx{}, f.users, f.hasher, f.guard, f.sessions, clock),
		UpdateMe:       auth.NewUpdateMe(testsupport.InlineTx{}, f.users, f.sessions, clock),
		RequestOTP:     auth.NewRequestOTP(f.codes, f.sms, smstexts.English{}, clock, nil, 3*time.Minute),
		VerifyOTP: auth.NewVerifyOTP(f.codes, f.users, f.sessions, f.tokens, ids, clock,
			auth.SessionPolicy{Lifetime: sessionLife, MaxPerUser: 20}),
		ResetPassword: auth.NewResetPassword(f.codes, testsupport.InlineTx{}, f.users, f.hasher, f.sessions, clock),
	})
	httpapi.RegisterAdmin(f.e, httpapi.AdminUseCases{
		Authenticate:     f.authenticate,
		ListUsers:        admin.NewListUsers(f.users),
		ChangeRole:       admin.NewChangeRole(testsupport.InlineTx{}, f.users, f.sessions, clock),
		ChangeStatus:     admin.NewChangeStatus(testsupport.InlineTx{}, f.users, f.sessions, clock),
		SetSellerProfile: admin.NewSetSellerProfile(testsupport.InlineTx{}, f.users, f.sessions, clock),
	})
	return f
}

// bearer makes a token of a live session of uid (session sid) with role.
func (f identity) bearer(uid, sid string, role user.Role) string {
	token := "access." + uid + "." + sid
	f.tokens.EXPECT().ParseAccess(token).Return(claimsFor(uid, sid, role), nil).AnyTimes()
	f.sessions.EXPECT().CheckAccess(gomock.Any(), sid, uid, now).Return(ports.SessionAccess{Role: role}, nil).AnyTimes()
	return token
}

func claimsFor(uid, sid string, role user.Role) ports.AccessClaims {
	return ports.AccessClaims{UserID: uid, Role: role, SessionID: sid, TokenID: "jti", IssuedAt: now, ExpiresAt: now.Add(accessTTL)}
}

// expectIssue expects a session to start for a user and returns the tokens
// the client will get.
func (f identity) expectIssue(sid string) {
	f.tokens.EXPECT().NewRefresh(sid).Return("refresh."+sid, "refresh-hash", nil)
	f.tokens.EXPECT().IssueAccess(gomock.Any()).DoAndReturn(func(c ports.AccessClaims) (string, ports.AccessClaims, error) {
		c.TokenID, c.IssuedAt, c.ExpiresAt = "jti", now, now.Add(accessTTL)
		return "access.new", c, nil
	})
}

func (f identity) call(method, path, token, body string, header ...string) *httptest.ResponseRecorder {
	var req *http.Request
	if body == "" {
		req = httptest.NewRequestWithContext(context.Background(), method, path, nil)
	} else {
		req = httptest.NewRequestWithContext(context.Background(), method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return serve(f.e, req)
}

func restoreUser(id string, role user.Role, status user.Status, phone string) *user.User {
	return user.Restore(id, id[:4]+"@example.uz", "$argon2id$stored-hash", "Ann Lee", phone, role, status,
		now.Add(-48*time.Hour), now.Add(-time.Hour))
}

func storedSession(t *testing.T, id, uid, userAgent, ip string) *session.Session {
	t.Helper()
	s, err := session.New(id, uid, user.RoleCustomer, "h1", userAgent, ip, now.Add(-2*time.Hour), sessionLife)
	require.NoError(t, err)
	return s
}

// object decodes a JSON object response, keeping numbers exact.
func object(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	require.Equal(t, "application/json", strings.Split(rec.Header().Get("Content-Type"), ";")[0], rec.Body.String())
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	return m
}

func keysOf(v any) []string {
	m, _ := v.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func fieldNames(p problemBody) []string {
	out := make([]string, 0, len(p.Errors))
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

// Exact key sets of API.md's objects, sorted.
var (
	userKeys    = []string{"created_at", "email", "full_name", "id", "phone", "phone_verified", "role", "seller_profile", "status"}
	tokensKeys  = []string{"access_token", "expires_in", "refresh_token", "token_type"}
	sessionKeys = []string{"created_at", "current", "expires_at", "id", "ip", "last_used_at", "user_agent"}
)

// dummyPassword matches the random password Login hashes for its dummy
// (rand.Text: 26 characters of base32), and no password a test registers.
type dummyPassword struct{}

func (dummyPassword) Matches(x any) bool {
	s, ok := x.(string)
	return ok && len(s) == 26 && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == ""
}

func (dummyPassword) String() string { return "a rand.Text() password" }

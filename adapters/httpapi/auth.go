package httpapi

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/adapters/i18n"
	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/ports"
)

// AuthUseCases are the identity use cases behind /api/auth. Every field is
// required.
type AuthUseCases struct {
	Authenticate   *auth.Authenticate
	Register       *auth.Register
	Login          *auth.Login
	Refresh        *auth.Refresh
	Logout         *auth.Logout
	LogoutAll      *auth.LogoutAll
	Me             *auth.Me
	ListSessions   *auth.ListSessions
	DeleteSession  *auth.DeleteSession
	ChangePassword *auth.ChangePassword
	UpdateMe       *auth.UpdateMe
	RequestOTP     *auth.RequestOTP
	VerifyOTP      *auth.VerifyOTP
	ResetPassword  *auth.ResetPassword
}

// RegisterAuth mounts /api/auth (API.md, Auth) on the public server. mw wraps
// every route of the group (a rate limit, say); the bearer routes also get
// RequireAuth.
func RegisterAuth(e *echo.Echo, uc AuthUseCases, mw ...echo.MiddlewareFunc) {
	h := authHandlers{uc: uc}
	bearer := RequireAuth(uc.Authenticate)
	g := e.Group("/api/auth", mw...)
	g.POST("/register", h.register)
	g.POST("/login", h.login)
	g.POST("/refresh", h.refresh)
	g.POST("/logout", h.logout, bearer)
	g.POST("/logout-all", h.logoutAll, bearer)
	g.GET("/me", h.me, bearer)
	g.GET("/sessions", h.sessions, bearer)
	g.DELETE("/sessions/:id", h.deleteSession, bearer)
	g.PUT("/password", h.changePassword, bearer)
	g.PATCH("/me", h.updateMe, bearer)
	g.POST("/otp", h.requestOTP)
	g.POST("/otp/verify", h.verifyOTP)
	g.POST("/password/reset", h.resetPassword)
}

type authHandlers struct {
	uc AuthUseCases
}

// Request bodies. Absent and null fields read as "": the use cases report an
// empty required field as a 422 naming it, so the DTOs need no pointers. The
// one exception is refresh_token: API.md makes a malformed refresh token 401
// unauthorized, and an empty one is malformed.
type (
	registerRequest struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		FullName string `json:"full_name"`
		Phone    string `json:"phone"`
	}
	loginRequest struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	refreshRequest struct {
		RefreshToken string `json:"refresh_token"`
	}
	changePasswordRequest struct {
		CurrentPassword string `json:"current_password"`
		NewPassword     string `json:"new_password"`
	}
	// updateMeRequest is a PATCH: an absent (or null) field stays as it is.
	updateMeRequest struct {
		FullName *string `json:"full_name"`
		Email    *string `json:"email"`
	}
	otpRequest struct {
		Phone string `json:"phone"`
	}
	verifyOTPRequest struct {
		Phone string `json:"phone"`
		Code  string `json:"code"`
	}
	resetPasswordRequest struct {
		Phone       string `json:"phone"`
		Code        string `json:"code"`
		NewPassword string `json:"new_password"`
	}
	// emptyRequest is the {} that logout and logout-all take; Bind still
	// refuses unknown fields in it.
	emptyRequest struct{}
)

func (h authHandlers) register(c echo.Context) error {
	var req registerRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	res, err := h.uc.Register.Handle(c.Request().Context(), auth.RegisterInput{
		Email: req.Email, Password: req.Password, FullName: req.FullName, Phone: req.Phone,
		UserAgent: c.Request().UserAgent(), IP: c.RealIP(),
	})
	if err != nil {
		return err
	}
	return withTokens(c, http.StatusCreated, userTokensJSON{User: userOf(res.User), Tokens: tokensOf(res.Tokens)})
}

func (h authHandlers) login(c echo.Context) error {
	var req loginRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	ip := c.RealIP() // through TRUSTED_PROXIES only
	res, err := h.uc.Login.Handle(c.Request().Context(), auth.LoginInput{
		Email: req.Email, Password: req.Password,
		UserAgent: c.Request().UserAgent(), IP: ip,
		Client: clientKey(ip), // the lockout counts a client as the rate limits do
	})
	if err != nil {
		return err
	}
	return withTokens(c, http.StatusOK, userTokensJSON{User: userOf(res.User), Tokens: tokensOf(res.Tokens)})
}

func (h authHandlers) refresh(c echo.Context) error {
	var req refreshRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	tokens, err := h.uc.Refresh.Handle(c.Request().Context(), auth.RefreshInput{RefreshToken: req.RefreshToken})
	if err != nil {
		return err
	}
	return withTokens(c, http.StatusOK, tokensEnvelope{Tokens: tokensOf(tokens)})
}

func (h authHandlers) logout(c echo.Context) error {
	claims, err := bindClaims(c)
	if err != nil {
		return err
	}
	if err := h.uc.Logout.Handle(c.Request().Context(), auth.LogoutInput{Claims: claims}); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h authHandlers) logoutAll(c echo.Context) error {
	claims, err := bindClaims(c)
	if err != nil {
		return err
	}
	if err := h.uc.LogoutAll.Handle(c.Request().Context(), auth.LogoutAllInput{Claims: claims}); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// bindClaims reads the {} body of logout and logout-all and returns the caller.
func bindClaims(c echo.Context) (ports.AccessClaims, error) {
	if err := Bind(c, &emptyRequest{}); err != nil {
		return ports.AccessClaims{}, err
	}
	return mustClaims(c)
}

func (h authHandlers) me(c echo.Context) error {
	claims, err := mustClaims(c)
	if err != nil {
		return err
	}
	u, err := h.uc.Me.Handle(c.Request().Context(), auth.MeInput{Claims: claims, Access: accessFrom(c)})
	if err != nil {
		return err
	}
	noStore(c) // personal data
	return c.JSON(http.StatusOK, userEnvelope{User: userOf(u)})
}

func (h authHandlers) sessions(c echo.Context) error {
	claims, err := mustClaims(c)
	if err != nil {
		return err
	}
	items, err := h.uc.ListSessions.Handle(c.Request().Context(), auth.ListSessionsInput{Claims: claims})
	if err != nil {
		return err
	}
	out := sessionListJSON{Items: make([]sessionJSON, 0, len(items))}
	for _, it := range items {
		out.Items = append(out.Items, sessionOf(it.Session, it.Current))
	}
	noStore(c)
	return c.JSON(http.StatusOK, out)
}

func (h authHandlers) deleteSession(c echo.Context) error {
	claims, err := mustClaims(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if !domain.IsID(id) {
		return fmt.Errorf("session id %q: %w", id, session.ErrNotFound)
	}
	if err := h.uc.DeleteSession.Handle(c.Request().Context(), auth.DeleteSessionInput{Claims: claims, SessionID: id}); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h authHandlers) changePassword(c echo.Context) error {
	claims, err := mustClaims(c)
	if err != nil {
		return err
	}
	var req changePasswordRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	err = h.uc.ChangePassword.Handle(c.Request().Context(), auth.ChangePasswordInput{
		Claims: claims, CurrentPassword: req.CurrentPassword, NewPassword: req.NewPassword,
		Client: clientKey(c.RealIP()), // a wrong current password counts as a failed login
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h authHandlers) updateMe(c echo.Context) error {
	claims, err := mustClaims(c)
	if err != nil {
		return err
	}
	var req updateMeRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	u, err := h.uc.UpdateMe.Handle(c.Request().Context(), auth.UpdateMeInput{
		Claims: claims, FullName: req.FullName, Email: req.Email,
	})
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, userEnvelope{User: userOf(u)})
}

func (h authHandlers) requestOTP(c echo.Context) error {
	var req otpRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	issued, err := h.uc.RequestOTP.Handle(c.Request().Context(), auth.RequestOTPInput{
		Phone:  req.Phone,
		Client: clientKey(c.RealIP()), // the per-client ceiling counts a client as the rate limits do
		Lang:   requestLang(c),
	})
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusAccepted, otpSentJSON{ExpiresIn: ceilSeconds(issued.ExpiresIn), ResendIn: ceilSeconds(issued.ResendIn)})
}

func (h authHandlers) verifyOTP(c echo.Context) error {
	var req verifyOTPRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	res, err := h.uc.VerifyOTP.Handle(c.Request().Context(), auth.VerifyOTPInput{
		Phone: req.Phone, Code: req.Code, UserAgent: c.Request().UserAgent(), IP: c.RealIP(),
	})
	if err != nil {
		return err
	}
	return withTokens(c, http.StatusOK, phoneLoginJSON{User: userOf(res.User), Tokens: tokensOf(res.Tokens), Created: res.Created})
}

func (h authHandlers) resetPassword(c echo.Context) error {
	var req resetPasswordRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	err := h.uc.ResetPassword.Handle(c.Request().Context(), auth.ResetPasswordInput{
		Phone: req.Phone, Code: req.Code, NewPassword: req.NewPassword,
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// requestLang is the language of texts made for this request, such as the
// SMS with a login code (API.md, "Languages"): the one problems answer in.
func requestLang(c echo.Context) string {
	return i18n.Negotiate(c.Request().Header.Get(HeaderAcceptLanguage))
}

// withTokens writes a body that carries tokens. no-store keeps them out of
// every cache (RFC 6749 §5.1 asks the same of token responses).
func withTokens(c echo.Context, status int, body any) error {
	noStore(c)
	c.Response().Header().Set("Pragma", "no-cache") // HTTP/1.0 caches
	return c.JSON(status, body)
}

package user

// Actor is who a use case acts for: the user of the access token and the
// role it carries. The zero Actor is nobody (an anonymous request, a
// background job): it is no user, owns nothing and is no admin, whatever its
// Role says.
type Actor struct {
	ID   string
	Role Role
}

// SignedIn reports whether the actor is a user at all.
func (a Actor) SignedIn() bool { return a.ID != "" }

// Is reports whether the actor is the user userID.
func (a Actor) Is(userID string) bool { return a.ID != "" && a.ID == userID }

// IsAdmin reports whether the actor is a signed-in admin or super_admin:
// wherever the contract says admin, it includes super_admin.
func (a Actor) IsAdmin() bool { return a.ID != "" && a.Role.IsAdmin() }

package table

// Item types of staff accounts (shared/store/staff.go).
const (
	// TypeStaff is one staff member of a tenant (console login).
	TypeStaff = "staff"
	// TypeStaffEmail makes a staff email unique across the platform and finds the
	// tenant of a login.
	TypeStaffEmail = "staff_email"
)

package youzan

// ParseHeaders lists the headers Parse reads; a kept unreadable delivery keeps
// them to be parsed again.
func (provider) ParseHeaders() []string { return []string{HeaderEventType, HeaderClientID} }

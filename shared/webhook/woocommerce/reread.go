package woocommerce

// ParseHeaders lists the headers Parse reads; a kept unreadable delivery keeps
// these (and the source site) to be parsed again.
func (provider) ParseHeaders() []string {
	return []string{HeaderTopic, HeaderResource, HeaderEvent, HeaderDeliveryID, HeaderWebhookID, HeaderSource}
}

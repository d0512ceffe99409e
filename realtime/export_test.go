package realtime

// SmallReceiveDialer is smallReceiveDialer for the external tests.
var SmallReceiveDialer = smallReceiveDialer

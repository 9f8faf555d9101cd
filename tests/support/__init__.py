"""What the tests share: generated data, real servers on loopback (Mosquitto, sshd, the HTTP server),
throwaway virtual environments, models built for one property, and the real CLI's command line."""

"""Local multi-zone cluster: etcd, Patroni/PostgreSQL, Redis + Sentinel, HAProxy and supervised web processes."""

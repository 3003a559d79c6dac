"""Electronic work orders (电子工单): faults, repair requests, complaints, maintenance."""

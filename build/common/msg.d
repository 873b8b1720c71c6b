build/common/msg.o: common/msg.c common/msg.h common/mp.h
common/msg.h:
common/mp.h:
